"""A message campaign to 30 customers of one district, run by the real Runtime (`hotline
serve` in this process: the bridge, the call log, the router, the IVR's FastAGI server
with the campaign route, the `campaigns` duty) on the sandbox Asterisk, with a
controlled clock (issue 16's Must-show).

The customers are Local channels in hotline-test-customer whose behaviour the test sets
per number (dialplan globals): a person who says hello and presses 3 (confirms), 9 (opts
out) or 2 (an agent), a busy line, a phone that rings out, a person who hangs up in the
middle of the message, an answering machine, a number that fails. Then, on the clock:

- every first attempt ends with its own outcome, and each retry is due at the time the
  dialing rules give (busy +10 min, failed +30, no answer and hang-up +60, machine +120),
  moved to the next morning when it falls after the calling window (20:00);
- 2 = an agent: the router offers the call to the ready agent with the customer's file;
- outside the window no call is placed, even for a contact never tried; next morning
  the retries go, and after the last attempt the unreached get a text (SMS fallback);
- opted-out numbers are never called again, by this campaign or another one;
- every campaign call is a call record with direction out and its campaign.
PostgreSQL: the production database, with the AGI, the engine and the call log writing
at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import col, func, select

from campaigns.engine import CampaignEngine
from db.engine import async_session_factory, make_async_engine
from db.models import AgentSkill, Call, Customer, CustomerPhone, User
from db.models.campaigns import (
    AttemptOutcome,
    Campaign,
    CampaignAttempt,
    CampaignContact,
    CampaignKind,
    CampaignState,
    ContactState,
    DoNotCall,
    SmsMessage,
)
from devtools.services.asterisk import AsteriskInstance
from devtools.services.net import free_port
from hotline.runtime import Infrastructure, Runtime
from kernel import topics
from kernel.bus.memory import MemoryBus
from kernel.clock import FakeClock
from tests.harness.cti import stack_settings
from tests.integration.devtools.test_sandbox import RawAmi
from tests.integration.routing.stack import Recorder
from tests.support import eventually

pytestmark = [
    pytest.mark.integration,
    pytest.mark.parametrize("db_backend", ["postgresql"]),
    pytest.mark.timeout(420),
]

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 12, 8, 19, 30, tzinfo=SHANGHAI)  # a Tuesday, half an hour before 20:00
NEXT_MORNING = dt.datetime(2026, 12, 9, 9, 0, tzinfo=SHANGHAI)
DISTRICT = "滨江区"
TEXT = "{name}您好，您家所在的滨江区将于明天上午九点至下午三点计划停气，请提前做好准备。"
HELLO = {"GREETING": "hello", "KEYS_DELAY": "6"}
# behaviour -> (how many, the number's dialplan globals)
BEHAVIOURS: dict[str, tuple[int, dict[str, str]]] = {
    "confirm": (8, {**HELLO, "KEYS": "3"}),
    "opt_out": (4, {**HELLO, "KEYS": "9"}),
    "agent": (2, {**HELLO, "KEYS": "2"}),
    "busy": (4, {"FAIL": "17"}),
    "no_answer": (4, {"NO_ANSWER": "1"}),
    "hangup": (3, {"GREETING": "hello", "HANGUP_AFTER": "2"}),
    "machine": (3, {"MACHINE": "1"}),
    "failed": (2, {"FAIL": "34"}),
}
FIRST = {  # behaviour -> (outcome of the first attempt, minutes to the retry or None)
    "confirm": (AttemptOutcome.ANSWERED, None),
    "opt_out": (AttemptOutcome.ANSWERED, None),
    "agent": (AttemptOutcome.ANSWERED, None),
    "busy": (AttemptOutcome.BUSY, 10),
    "no_answer": (AttemptOutcome.NO_ANSWER, 60),
    "hangup": (AttemptOutcome.HANGUP, 60),
    "machine": (AttemptOutcome.MACHINE, 120),
    "failed": (AttemptOutcome.FAILED, 30),
}
AGENT_EXTS = ("1001", "1002")  # one per customer pressing 2: the clock is frozen (no wrap-up end)


def numbers() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    n = 0
    for behaviour, (count, _) in BEHAVIOURS.items():
        out[behaviour] = []
        for _ in range(count):
            n += 1
            out[behaviour].append(f"1390571{n:04d}")
    return out


NUMBERS = numbers()
BEHAVIOUR_OF = {number: b for b, nums in NUMBERS.items() for number in nums}


@contextlib.asynccontextmanager
async def running(
    asterisk: AsteriskInstance, db_url: str, clock: FakeClock, ids: dict[str, Any]
) -> AsyncIterator[Any]:
    settings = stack_settings(
        asterisk,
        db_url,
        HOTLINE_HTTP__PORT=str(free_port()),
        HOTLINE_AUTH__SECRET_KEY=secrets.token_hex(32),
        HOTLINE_ROUTING__ANNOUNCE_WAIT="false",
        HOTLINE_CAMPAIGNS__RING_SECONDS="5",
        HOTLINE_CAMPAIGNS__MAX_ATTEMPTS="2",
        HOTLINE_CAMPAIGNS__TRUNK_CHANNELS="12",
        HOTLINE_CAMPAIGNS__CALLS_PER_SECOND="20",
    )
    ami = await RawAmi.connect(asterisk)
    try:
        await ami.action("DBDelTree", Family="hotline/callback")  # "not found" is fine
        await ami.action("Hangup", Channel="/./")  # calls earlier tests left
    finally:
        await ami.close()
    engine = make_async_engine(settings.database.url)
    sessions = async_session_factory(engine)
    # The router learns its agents when it starts: they are there first.
    ids["campaign"], ids["agent"] = await seed(sessions)
    runtime = Runtime(
        settings,
        role="pbx",
        only={"ivr", "call_log", "bridge", "routing", "campaigns"},
        migrate=False,
        infrastructure=Infrastructure(MemoryBus(), engine, sessions, clock),
    )
    await runtime.start()
    try:
        yield runtime
    finally:
        await asyncio.wait_for(runtime.stop(), 60)
        await engine.dispose()


async def seed(sessions: Any) -> tuple[int, list[int]]:
    """30 customers of the district with their phones, agent 1001, the campaign (running,
    not yet heard of by the engine); returns (campaign, agent)."""
    async with sessions() as s:
        for i, number in enumerate(sorted(BEHAVIOUR_OF)):
            customer = Customer(
                name=f"王{i:02d}号",
                account_number=f"77{i:06d}",
                district=DISTRICT,
                arrears=Decimal("0"),
            )
            s.add(customer)
            await s.flush()
            assert customer.id is not None
            s.add(CustomerPhone(customer_id=customer.id, number=number, is_primary=True))
        agent_ids = []
        for ext in AGENT_EXTS:
            agent = User(
                username=f"agent{ext}",
                display_name=f"坐席{ext}",
                extension=ext,
                languages=["zh"],
                password_hash="x",
            )
            s.add(agent)
            await s.flush()
            assert agent.id is not None
            agent_ids.append(agent.id)
            s.add(AgentSkill(user_id=agent.id, skill="general", level=9))
        campaign = Campaign(
            name="滨江区停气通知",
            kind=CampaignKind.MESSAGE,
            state=CampaignState.RUNNING,
            skill="general",
            script={"text": TEXT, "language": "zh"},
            sms_fallback=True,
            sms_text="{name}您好：滨江区明天9:00-15:00计划停气，详询热线95777。",
            started_at=T0,
        )
        s.add(campaign)
        await s.flush()
        assert campaign.id is not None
        rows = await s.exec(
            select(Customer, CustomerPhone).join(
                CustomerPhone, col(CustomerPhone.customer_id) == col(Customer.id)
            )
        )
        for customer, phone in rows.all():
            s.add(
                CampaignContact(
                    campaign_id=campaign.id,
                    customer_id=customer.id,
                    number=phone.number,
                    name=customer.name,
                    data={"name": customer.name},
                )
            )
        await s.commit()
        return campaign.id, agent_ids


async def contacts(services: Any, campaign_id: int) -> dict[str, CampaignContact]:
    async with services.sessions() as s:
        rows = await s.exec(
            select(CampaignContact).where(col(CampaignContact.campaign_id) == campaign_id)
        )
        return {c.number: c for c in rows.all()}


async def settled(services: Any, campaign_id: int, attempts: dict[str, int]) -> bool:
    """Every contact has had the attempts given and none is being dialled."""
    now = await contacts(services, campaign_id)
    return all(
        c.state != ContactState.DIALING and c.attempts >= attempts.get(c.number, 0)
        for c in now.values()
    )


async def attempt_count(services: Any) -> int:
    async with services.sessions() as s:
        return int((await s.exec(select(func.count()).select_from(CampaignAttempt))).one())


async def test_a_message_campaign_to_30_customers_of_a_district(
    asterisk: AsteriskInstance, db_url: str
) -> None:
    clock = FakeClock(T0)
    ids: dict[str, Any] = {}
    async with running(asterisk, db_url, clock, ids) as runtime:
        services = runtime.services
        assert services is not None
        assert services.pbx is not None
        for number, behaviour in BEHAVIOUR_OF.items():
            for name, value in BEHAVIOURS[behaviour][1].items():
                await services.pbx.set_var("", f"HOTLINE_TEST_{number}_{name}", value)
        for ext in AGENT_EXTS:  # an agent talks 3 s with a customer who pressed 2
            await services.pbx.set_var("", f"HOTLINE_TEST_{ext}_TALK_TIME", "3")
        recorder = Recorder()
        offers = await services.bus.subscribe(topics.OFFER)
        recording = asyncio.create_task(_record(offers, recorder))
        engine = runtime.duties.component("campaigns") if runtime.duties else None
        assert isinstance(engine, CampaignEngine)
        try:
            campaign_id, agent_ids = ids["campaign"], ids["agent"]
            routing = services.features.routing
            assert routing is not None
            for agent_id in agent_ids:
                await routing.login(agent_id)
                await routing.ready(agent_id)
            await services.bus.publish(
                topics.CAMPAIGN, {"type": "campaign.changed", "campaign_id": campaign_id}
            )

            # 1. The first attempts, at 19:30 on the clock.
            first = {n: 1 for n in BEHAVIOUR_OF}
            await eventually(
                lambda: settled(services, campaign_id, first), 180, "every first attempt to end"
            )
            after_first = await contacts(services, campaign_id)
            for number, contact in after_first.items():
                behaviour = BEHAVIOUR_OF[number]
                outcome, minutes = FIRST[behaviour]
                assert contact.last_outcome == outcome, (number, behaviour, contact)
                if minutes is None:
                    continue
                assert contact.state == ContactState.PENDING, (number, behaviour)
                due = T0 + dt.timedelta(minutes=minutes)
                if due.hour >= 20:  # after the window: the next morning's first minute
                    due = NEXT_MORNING
                assert contact.next_attempt_at == due, (number, behaviour)
            for number in NUMBERS["confirm"]:
                assert after_first[number].state == ContactState.DONE
                assert after_first[number].confirmed
            for number in NUMBERS["opt_out"]:
                assert after_first[number].state == ContactState.OPTED_OUT
            for number in NUMBERS["agent"]:
                assert after_first[number].state == ContactState.DONE
                assert after_first[number].answers.get("agent") is True

            # 2 = an agent: the router offered the call, with the customer's file.
            def offered() -> list[dict[str, Any]]:
                return [
                    o
                    for o in recorder.of("offer", "offer")
                    if str(o.get("call_id", "")).startswith("hlcp-")
                ]

            await eventually(lambda: len(offered()) >= 2, 60, "agents offered the 2-pressers")
            customer_ids = {after_first[n].customer_id for n in NUMBERS["agent"]}
            assert {int(o["call"]["customer_id"]) for o in offered()} == customer_ids
            assert {o["agent_id"] for o in offered()} <= set(agent_ids)

            # Every campaign call is an outbound call record of the campaign.
            async with services.sessions() as s:
                calls = (
                    await s.exec(
                        select(Call.direction, Call.campaign_id).join(
                            CampaignAttempt, col(CampaignAttempt.call_id) == col(Call.id)
                        )
                    )
                ).all()
            assert len(calls) == 30
            assert {(str(d.value if hasattr(d, "value") else d), c) for d, c in calls} == {
                ("out", campaign_id)
            }

            # 2. 19:40: the busy lines' retry (inside the window).
            clock.set(T0 + dt.timedelta(minutes=10))
            engine.poke()
            busy_again = {n: 2 for n in NUMBERS["busy"]}
            await eventually(
                lambda: settled(services, campaign_id, busy_again), 120, "the busy retries"
            )
            now = await contacts(services, campaign_id)
            for number in NUMBERS["busy"]:
                assert now[number].state == ContactState.FAILED  # 2 attempts: the limit
                assert now[number].sms_id is not None  # the unreached get a text

            # 3. 20:30: outside the window nothing is placed, even a contact never tried.
            clock.set(dt.datetime(2026, 12, 8, 20, 30, tzinfo=SHANGHAI))
            late = "13905719999"
            async with services.sessions() as s:
                s.add(CampaignContact(campaign_id=campaign_id, number=late, name="晚到", data={}))
                await s.commit()
            for name, value in BEHAVIOURS["confirm"][1].items():
                await services.pbx.set_var("", f"HOTLINE_TEST_{late}_{name}", value)
            before = await attempt_count(services)
            assert await engine.run_due() == 0
            assert await attempt_count(services) == before
            assert await engine.next_due() == NEXT_MORNING

            # 4. The next morning the retries go; the unreached end failed with a text.
            clock.set(NEXT_MORNING)
            engine.poke()

            async def all_final() -> bool:
                rows = await contacts(services, campaign_id)
                return all(
                    c.state in (ContactState.DONE, ContactState.FAILED, ContactState.OPTED_OUT)
                    for c in rows.values()
                )

            await eventually(all_final, 180, "every contact to end")
            final = await contacts(services, campaign_id)
            retried = [n for b in ("no_answer", "hangup", "machine", "failed") for n in NUMBERS[b]]
            for number in retried:
                assert final[number].attempts == 2, number
                assert final[number].state == ContactState.FAILED, number
                assert final[number].sms_id is not None
            for number in NUMBERS["opt_out"] + NUMBERS["confirm"] + NUMBERS["agent"]:
                assert final[number].attempts == 1, number  # never called again
            assert final[late].state == ContactState.DONE
            assert final[late].confirmed
            async with services.sessions() as s:
                texts = (await s.exec(select(SmsMessage))).all()
                campaign = await s.get(Campaign, campaign_id)
                dnc = (await s.exec(select(DoNotCall.number))).all()
            assert len(texts) == len(retried) + len(NUMBERS["busy"])
            assert all("停气" in t.text for t in texts)
            assert campaign is not None
            assert campaign.state == CampaignState.COMPLETED
            assert set(dnc) == set(NUMBERS["opt_out"])

            # 5. Another campaign to the opted-out numbers: none of them is dialled.
            async with services.sessions() as s:
                other = Campaign(
                    name="满意度回访", kind=CampaignKind.MESSAGE, state=CampaignState.RUNNING,
                    script={"text": TEXT},
                )  # fmt: skip
                s.add(other)
                await s.flush()
                assert other.id is not None
                for number in NUMBERS["opt_out"]:
                    s.add(CampaignContact(campaign_id=other.id, number=number, data={}))
                await s.commit()
                other_id = other.id
            before = await attempt_count(services)
            await engine.run_due()
            second = await contacts(services, other_id)
            assert {c.state for c in second.values()} == {ContactState.OPTED_OUT}
            assert await attempt_count(services) == before
        finally:
            # The worker's Asterisk outlives this test: agents 1001/1002 talk as before.
            for ext in AGENT_EXTS:
                await services.pbx.set_var("", f"HOTLINE_TEST_{ext}_TALK_TIME", "")
            recording.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recording
            await offers.close()


async def _record(sub: Any, recorder: Recorder) -> None:
    from kernel.bus.port import BusClosed

    with contextlib.suppress(BusClosed):
        while True:
            recorder.messages.append(await sub.get())
