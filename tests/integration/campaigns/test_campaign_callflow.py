"""The answered campaign call on a real Asterisk 22: [hotline-campaign] -> (AMD) ->
FastAGI route `campaign` (campaigns/agi.py) -> the flow -> the result on the contact
and the attempt.

Each test creates a campaign, a contact and an attempt in the database and originates
the customer the way the engine does, minus the dialling context: a Local channel
straight to hotline-test-customer (which answers) with Context=hotline-campaign and the
engine's channel variables. Keys reach the flow as a phone's would: AMI PlayDTMF on the
customer's own channel, after the flow said it is asking (bus topic "campaign").
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from campaigns.agi import CampaignAgi, channel_vars
from cti.commands import OriginatePurpose
from db.models import Customer, Survey, SurveyMethod, Ticket, TicketCall
from db.models.campaigns import (
    AttemptOutcome,
    Campaign,
    CampaignAttempt,
    CampaignContact,
    CampaignKind,
    CampaignState,
    DoNotCall,
)
from db.models.customers import Language, Tier
from devtools.services.asterisk import AsteriskInstance
from hotline.services import Features, Services
from ivr.agi_server import FastAgiServer
from kernel import topics
from kernel.bus.port import Subscription
from kernel.clock import SystemClock
from kernel.config.campaigns import AmdSettings
from routing.service import RoutingService
from tests.harness.cti import CtiStack, stack_settings
from tests.integration.routing.stack import Recorder, add_agents
from tests.support import bounded_teardown, eventually

pytestmark = pytest.mark.integration
NUMBER = "13900139000"
MESSAGE = "{name}您好，您的燃气费已欠费{arrears}，请于{due}前缴纳，以免影响正常用气。"


@dataclass
class Rig:
    services: Services
    cti: CtiStack
    events: Subscription


@pytest.fixture
async def rig(cti_stack: CtiStack, asterisk: AsteriskInstance, db_url: str) -> AsyncIterator[Rig]:
    settings = stack_settings(asterisk, db_url)
    services = Services(
        settings=settings,
        bus=cti_stack.bus,
        engine=cti_stack.engine,
        sessions=cti_stack.sessions,
        pbx=cti_stack.bridge.commands,
        clock=SystemClock(),
        features=Features(bridges=[cti_stack.bridge]),
    )
    route = settings.campaigns.agi_route
    agi = FastAgiServer(
        {route: CampaignAgi(services).handle}, asterisk.fastagi_host, asterisk.fastagi_port
    )
    events = await services.bus.subscribe(topics.CAMPAIGN)
    await agi.start()
    try:
        yield Rig(services, cti_stack, events)
    finally:
        await bounded_teardown(("campaign AGI", agi.stop), ("events", events.close))


async def add_customer(services: Services, language: str = "zh") -> int:
    async with services.sessions() as s:
        customer = Customer(
            name="孙丽",
            account_number=f"33{uuid.uuid4().int % 10**8:08d}",
            district="东城区",
            tier=Tier.B,
            arrears=Decimal("128.50"),
            language=Language(language),
        )
        s.add(customer)
        await s.commit()
        assert customer.id is not None
        return customer.id


async def add_attempt(
    services: Services,
    kind: CampaignKind,
    script: dict[str, Any],
    *,
    customer_id: int | None,
    skill: str | None = None,
    rules: dict[str, Any] | None = None,
) -> CampaignAttempt:
    linkedid = f"hlcp-t{uuid.uuid4().hex[:12]}"
    now = dt.datetime.now(dt.UTC)
    async with services.sessions() as s:
        campaign = Campaign(
            name="欠费提醒",
            kind=kind,
            state=CampaignState.RUNNING,
            script=script,
            skill=skill,
            rules=rules or {},
        )
        s.add(campaign)
        await s.flush()
        assert campaign.id is not None
        contact = CampaignContact(
            campaign_id=campaign.id,
            customer_id=customer_id,
            number=NUMBER,
            data={"due": "12月10日"},
            attempts=1,
        )
        s.add(contact)
        await s.flush()
        assert contact.id is not None
        attempt = CampaignAttempt(
            campaign_id=campaign.id,
            contact_id=contact.id,
            attempt=1,
            linkedid=linkedid,
            started_at=now,
        )
        s.add(attempt)
        await s.commit()
        await s.refresh(attempt)
        return attempt


async def dial(rig: Rig, attempt: CampaignAttempt, *, amd: bool = False, **extra: str) -> None:
    """The engine's Originate, the customer answering at once (hotline-test-customer)."""
    variables = {
        "HOTLINE_CAMPAIGN_ID": str(attempt.campaign_id),
        "HOTLINE_CONTACT_ID": str(attempt.contact_id),
        "HOTLINE_ATTEMPT_ID": str(attempt.id),
        **channel_vars(AmdSettings(), enabled=amd),
        **extra,
    }
    await rig.cti.bridge.commands.originate(
        f"Local/{NUMBER}@hotline-test-customer",
        purpose=OriginatePurpose.OUTBOUND,
        uniqueid=attempt.linkedid,
        context=rig.services.settings.campaigns.context,
        exten="s",
        variables=variables,
    )


async def asked(rig: Rig, step: str, timeout: float = 30) -> None:
    while True:
        msg = await rig.events.get(timeout=timeout)
        if msg.data.get("type") == "campaign.asking" and msg.data.get("step") == step:
            return


async def customer_channel(rig: Rig) -> str:
    channels = await rig.cti.bridge.commands.channels()
    mine = [
        c.channel
        for c in channels
        if c.channel.startswith(f"Local/{NUMBER}@hotline-test-customer")
        and c.channel.endswith(";2")
    ]
    assert len(mine) == 1, [c.channel for c in channels]
    return mine[0]


async def press(rig: Rig, digit: str) -> None:
    """The customer presses a key on their phone (their channel sends the DTMF)."""
    await rig.cti.bridge.client.send(
        "PlayDTMF", {"Channel": await customer_channel(rig), "Digit": digit, "Duration": 250}
    )


async def result(rig: Rig, attempt: CampaignAttempt, timeout: float = 30) -> dict[str, Any]:
    while True:
        msg = await rig.events.get(timeout=timeout)
        if (
            msg.data.get("type") == "campaign.call_result"
            and msg.data.get("attempt_id") == attempt.id
        ):
            return msg.data


async def rows(rig: Rig, attempt: CampaignAttempt) -> tuple[CampaignAttempt, CampaignContact]:
    async with rig.services.sessions() as s:
        a = await s.get(CampaignAttempt, attempt.id)
        c = await s.get(CampaignContact, attempt.contact_id)
    assert a is not None
    assert c is not None
    return a, c


async def hang_up(rig: Rig) -> None:
    """The customer hangs up (the closing words need not be heard to the end)."""
    with contextlib.suppress(Exception):
        await rig.cti.bridge.commands.hangup(await customer_channel(rig))
    await gone(rig)


async def gone(rig: Rig) -> None:
    async def idle() -> bool:
        return not [c for c in await rig.cti.bridge.commands.channels() if NUMBER in c.channel]

    await eventually(idle, 20, "the campaign call to end")


async def test_given_a_message_when_the_customer_presses_3_then_the_contact_is_confirmed_and_the_attempt_answered(
    rig: Rig,
) -> None:
    customer = await add_customer(rig.services)
    attempt = await add_attempt(
        rig.services, CampaignKind.MESSAGE, {"text": MESSAGE}, customer_id=customer
    )
    await dial(rig, attempt)
    await asked(rig, "menu")
    await press(rig, "3")
    done = await result(rig, attempt)
    assert (done["outcome"], done["end"]) == ("answered", "confirmed")
    a, c = await rows(rig, attempt)
    assert a.outcome == AttemptOutcome.ANSWERED
    assert a.answered_at is not None
    assert a.amd_status is None
    assert (c.confirmed, c.opted_out, c.keys) == (True, False, "3")
    assert a.call_id is not None
    assert c.last_call_id == a.call_id
    await gone(rig)


async def test_given_a_message_when_the_customer_presses_9_then_they_are_opted_out_and_on_the_do_not_call_list(
    rig: Rig,
) -> None:
    customer = await add_customer(rig.services)
    attempt = await add_attempt(
        rig.services, CampaignKind.MESSAGE, {"text": MESSAGE}, customer_id=customer
    )
    await dial(rig, attempt)
    await asked(rig, "menu")
    await press(rig, "9")
    done = await result(rig, attempt)
    assert (done["outcome"], done["end"]) == ("answered", "opted_out")
    a, c = await rows(rig, attempt)
    assert (c.opted_out, c.confirmed, c.keys) == (True, False, "9")
    async with rig.services.sessions() as s:
        [entry] = (await s.exec(select(DoNotCall).where(DoNotCall.number == NUMBER))).all()
    assert (entry.reason, entry.customer_id, entry.campaign_id) == (
        "opt_out",
        customer,
        a.campaign_id,
    )
    assert entry.lifted_at is None
    await hang_up(rig)


async def test_given_a_message_when_the_customer_hangs_up_mid_message_then_the_outcome_is_hangup(
    rig: Rig,
) -> None:
    customer = await add_customer(rig.services)
    attempt = await add_attempt(
        rig.services, CampaignKind.MESSAGE, {"text": MESSAGE * 2}, customer_id=customer
    )
    await dial(rig, attempt)
    await asked(rig, "menu")
    await rig.cti.bridge.commands.hangup(await customer_channel(rig))
    done = await result(rig, attempt)
    assert (done["outcome"], done["end"], done["where"]) == ("hangup", "hangup", "menu")
    a, c = await rows(rig, attempt)
    assert a.outcome == AttemptOutcome.HANGUP
    assert a.answered_at is not None
    assert (c.confirmed, c.opted_out) == (False, False)
    assert c.answers == {"hung_up_at": "menu"}


async def test_given_a_survey_when_the_customer_answers_then_the_answers_and_a_survey_row_are_stored(
    rig: Rig,
) -> None:
    customer = await add_customer(rig.services)
    script = {
        "intro": "您好，这里是燃气热线回访。",
        "questions": [
            {"key": "rating", "text": "请为我们的服务打分，1到5分。", "min": 1, "max": 5},
            {"key": "again", "text": "是否愿意推荐给亲友？是请按1，否请按2。", "min": 1, "max": 2},
        ],
        "thanks": "谢谢您的评价，再见。",
    }
    attempt = await add_attempt(rig.services, CampaignKind.SURVEY, script, customer_id=customer)
    await dial(rig, attempt)
    await asked(rig, "rating")
    await press(rig, "4")
    await asked(rig, "again")
    await press(rig, "1")
    done = await result(rig, attempt)
    assert (done["outcome"], done["end"]) == ("answered", "done")
    a, c = await rows(rig, attempt)
    assert c.answers["rating"] == 4
    assert c.answers["again"] == 1
    assert c.keys == "41"
    async with rig.services.sessions() as s:
        [survey] = (await s.exec(select(Survey))).all()
    assert (survey.method, survey.rating, survey.customer_id) == (SurveyMethod.PHONE, 4, customer)
    assert survey.call_id == a.call_id
    assert c.answers["survey_id"] == survey.id
    await hang_up(rig)


async def test_given_an_appointment_when_the_customer_picks_and_confirms_a_slot_then_a_ticket_is_created(
    rig: Rig,
) -> None:
    customer = await add_customer(rig.services)
    script = {
        "intro": "您好，您家的燃气安全检查需要预约上门时间。",
        "slots": [
            {"key": "1", "label": "12月8日上午", "date": "2026-12-08", "period": "am"},
            {"key": "2", "label": "12月8日下午", "date": "2026-12-08", "period": "pm"},
        ],
        "category": "inquiry",
        "thanks": "谢谢，再见。",
    }
    attempt = await add_attempt(
        rig.services, CampaignKind.APPOINTMENT, script, customer_id=customer
    )
    await dial(rig, attempt)
    await asked(rig, "slot")
    await press(rig, "2")
    await asked(rig, "confirm")
    await press(rig, "1")
    done = await result(rig, attempt)
    assert (done["outcome"], done["end"]) == ("answered", "booked")
    a, c = await rows(rig, attempt)
    assert c.ticket_id is not None
    assert c.answers["slot"]["label"] == "12月8日下午"
    async with rig.services.sessions() as s:
        ticket = await s.get(Ticket, c.ticket_id)
        links = (await s.exec(select(TicketCall).where(TicketCall.ticket_id == c.ticket_id))).all()
    assert ticket is not None
    assert (ticket.category, ticket.customer_id) == ("inquiry", customer)
    assert "12月8日下午" in ticket.subject
    assert [link.call_id for link in links] == [a.call_id]
    await hang_up(rig)


async def test_given_an_answering_machine_when_amd_runs_then_the_outcome_is_machine(
    rig: Rig,
) -> None:
    customer = await add_customer(rig.services)
    attempt = await add_attempt(
        rig.services, CampaignKind.MESSAGE, {"text": MESSAGE}, customer_id=customer
    )
    await dial(rig, attempt, amd=True, MACHINE="1")
    done = await result(rig, attempt)
    assert (done["outcome"], done["end"]) == ("machine", "machine")
    a, c = await rows(rig, attempt)
    assert a.outcome == AttemptOutcome.MACHINE
    assert a.amd_status == "MACHINE"
    assert c.keys == ""
    await gone(rig)


async def test_given_a_person_when_amd_runs_then_the_message_plays_and_amd_status_is_kept(
    rig: Rig,
) -> None:
    customer = await add_customer(rig.services)
    attempt = await add_attempt(
        rig.services, CampaignKind.MESSAGE, {"text": MESSAGE}, customer_id=customer
    )
    await dial(rig, attempt, amd=True, GREETING="hello")
    await asked(rig, "menu")
    await press(rig, "3")
    done = await result(rig, attempt)
    assert done["outcome"] == "answered"
    a, _ = await rows(rig, attempt)
    assert a.amd_status in ("HUMAN", "NOTSURE")
    await hang_up(rig)


async def test_given_an_answering_machine_and_leave_message_then_the_message_is_left_and_the_outcome_is_machine(
    rig: Rig,
) -> None:
    customer = await add_customer(rig.services)
    attempt = await add_attempt(
        rig.services,
        CampaignKind.MESSAGE,
        {"text": "{name}您好，燃气费欠费{arrears}。"},
        customer_id=customer,
        rules={"amd": {"on_machine": "leave_message"}},
    )
    await dial(rig, attempt, amd=True, MACHINE="1")
    done = await result(rig, attempt)
    assert (done["outcome"], done["message_left"]) == ("machine", True)
    a, _ = await rows(rig, attempt)
    assert a.outcome == AttemptOutcome.MACHINE
    await hang_up(rig)


async def test_given_an_english_customer_then_the_prompts_are_rendered_in_english(
    rig: Rig,
) -> None:
    customer = await add_customer(rig.services, language="en")
    attempt = await add_attempt(
        rig.services,
        CampaignKind.MESSAGE,
        {"text": "Dear {name}, your gas bill of {arrears} is overdue."},
        customer_id=customer,
    )
    await dial(rig, attempt)
    await asked(rig, "menu")
    await press(rig, "3")
    done = await result(rig, attempt)
    assert done["end"] == "confirmed"
    sounds = Path(rig.services.settings.ivr.sounds_dir)
    words = "Dear 孙丽, your gas bill of 128.50 yuan is overdue."  # the English voice
    key = hashlib.sha1(f"en|{words}".encode()).hexdigest()[:20]
    assert (sounds / "tickets" / "en" / f"{key}.wav").exists()
    await hang_up(rig)


async def test_given_a_message_when_the_customer_presses_2_then_an_agent_is_offered_the_call_with_the_customers_file(
    rig: Rig, asterisk: AsteriskInstance
) -> None:
    agents = await add_agents(rig.cti, {"1001": {"billing": 8}})
    recorder = Recorder()
    record = await rig.cti.bus.subscribe("call", "offer")
    tasks = [asyncio.create_task(_record(record, recorder))]
    router = RoutingService(rig.services)
    await router.start()
    desk = await rig.cti.bus.subscribe("offer")
    tasks.append(asyncio.create_task(_desktop(rig, desk)))
    try:
        await router.login(agents["1001"])
        await router.ready(agents["1001"])
        customer = await add_customer(rig.services)
        attempt = await add_attempt(
            rig.services,
            CampaignKind.MESSAGE,
            {"text": MESSAGE},
            customer_id=customer,
            skill="billing",
        )
        await dial(rig, attempt)
        await asked(rig, "menu")
        await press(rig, "2")
        done = await result(rig, attempt)
        assert (done["outcome"], done["end"]) == ("answered", "agent")

        def offered() -> bool:
            return bool(recorder.of("offer", "offer", call_id=attempt.linkedid))

        await eventually(offered, 30, "the router to offer the campaign call to the agent")
        [offer] = recorder.of("offer", "offer", call_id=attempt.linkedid)
        assert offer["agent_id"] == agents["1001"]
        assert offer["skill"] == "billing"
        assert str(offer["call"].get("customer_id")) == str(customer)
        a, c = await rows(rig, attempt)
        assert c.answers["agent"] is True
        assert a.outcome == AttemptOutcome.ANSWERED

        def answered() -> bool:
            return bool(recorder.of("call", "call.answered", call_id=attempt.linkedid))

        await eventually(answered, 30, "the agent to answer the campaign call")
        [talk] = recorder.of("call", "call.answered", call_id=attempt.linkedid)
        assert talk["agent"] == "1001"
    finally:
        await bounded_teardown(
            ("router", router.stop),
            ("recorder", record.close),
            ("desktop", desk.close),
            ("tasks", lambda: _cancel(tasks)),
        )


async def _record(sub: Subscription, recorder: Recorder) -> None:
    with contextlib.suppress(Exception):
        while True:
            recorder.messages.append(await sub.get())


async def _desktop(rig: Rig, sub: Subscription) -> None:
    """The agent API's part: the screen-pop shown, acknowledged (the router then dials)."""
    with contextlib.suppress(Exception):
        while True:
            msg = await sub.get()
            if msg.data.get("type") == "offer":
                await rig.cti.bus.publish(
                    "offer",
                    {
                        "type": "offer.delivered",
                        "agent_id": msg.data["agent_id"],
                        "call_id": msg.data["call_id"],
                    },
                )


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
