"""The demo's proactive service: an outage notice (停气通知) to customers of one district,
created and started when the demo starts (once per demo database), dialled by the real
campaign engine through the sandbox Asterisk. The customers are simulated phones (Local
channels in hotline-test-customer, behaviour from dialplan globals): most answer, say
hello and press 3 (confirm); some press 9 (opt out) or 2 (an agent: the desk pops their
file), some are busy, ring out or are answering machines. Watch it at /campaigns/."""

from __future__ import annotations

import logging
import random

from sqlmodel import col, func, select

from campaigns.schemas import CampaignIn
from campaigns.service import CampaignService
from db.models import Customer, CustomerPhone
from db.models.campaigns import Campaign, CampaignContact
from hotline.services import Services
from kernel.audit import Actor

log = logging.getLogger("devtools.demo")
NAME = "停气通知（演示）"
TEXT = (
    "{name}您好，这里是燃气公司客服中心。您所在的{district}将于明天上午九点至下午三点计划停气，"
    "请提前做好准备。确认收到请按3，重听请按1，转人工请按2，不再接收此类通知请按9。"
)
SMS = "{name}您好：{district}明天9:00-15:00计划停气，详询客服热线。"
HELLO = {"GREETING": "hello", "KEYS_DELAY": "8", "HANGUP_AFTER": "25"}
# (weight, the number's dialplan globals)
BEHAVIOURS: list[tuple[int, dict[str, str]]] = [
    (45, {**HELLO, "KEYS": "3"}),  # confirms
    (8, {**HELLO, "KEYS": "9"}),  # opts out
    (10, {**HELLO, "KEYS": "2"}),  # wants an agent
    (10, {"FAIL": "17"}),  # busy
    (12, {"NO_ANSWER": "1"}),  # rings out
    (8, {"MACHINE": "1"}),  # an answering machine
    (7, {"GREETING": "hello", "HANGUP_AFTER": "4"}),  # hangs up mid-message
]


class CampaignSimulator:
    def __init__(self, services: Services, *, contacts: int = 24, seed: int = 16) -> None:
        self._services = services
        self._contacts = contacts
        self._rng = random.Random(seed)

    async def start(self) -> None:
        try:
            campaign_id = await self._campaign()
            await self._phones(campaign_id)
        except Exception as exc:  # the demo goes on without its campaign
            log.warning("demo campaign not started: %s", exc)

    async def stop(self) -> None:
        return None

    async def _campaign(self) -> int:
        async with self._services.sessions() as s:
            found = (await s.exec(select(Campaign.id).where(col(Campaign.name) == NAME))).first()
            if found is not None:
                return int(found)
            district = (
                await s.exec(
                    select(Customer.district)
                    .where(col(Customer.district) != "")
                    .group_by(col(Customer.district))
                    .order_by(func.count().desc())
                    .limit(1)
                )
            ).first()
            rows = (
                await s.exec(
                    select(Customer.name, CustomerPhone.number)
                    .join(CustomerPhone, col(CustomerPhone.customer_id) == col(Customer.id))
                    .where(col(Customer.district) == district, col(CustomerPhone.is_primary))
                    .order_by(col(Customer.id))
                    .limit(self._contacts)
                )
            ).all()
        service = CampaignService(self._services)
        actor = Actor.system("demo")
        created = await service.create(
            actor,
            CampaignIn.model_validate(
                {
                    "name": NAME,
                    "kind": "message",
                    "skill": "general",
                    "script": {"text": TEXT, "language": "zh"},
                    "sms_fallback": True,
                    "sms_text": SMS,
                }
            ),
        )
        campaign_id = int(created["id"])
        lines = ["number,name,district"] + [f"{n},{name},{district}" for name, n in rows]
        await service.add_from_csv(actor, campaign_id, "\n".join(lines).encode("utf-8"))
        await service.transition(actor, campaign_id, "start")
        log.info("demo campaign %s started: %s contacts in %s", campaign_id, len(rows), district)
        return campaign_id

    async def _phones(self, campaign_id: int) -> None:
        pbx = self._services.pbx
        if pbx is None:
            return
        async with self._services.sessions() as s:
            numbers = (
                await s.exec(
                    select(CampaignContact.number).where(
                        col(CampaignContact.campaign_id) == campaign_id
                    )
                )
            ).all()
        weights = [w for w, _ in BEHAVIOURS]
        for number in numbers:
            (_, behaviour) = self._rng.choices(BEHAVIOURS, weights=weights)[0]
            for name, value in behaviour.items():
                await pbx.set_var("", f"HOTLINE_TEST_{number}_{name}", value)
