"""Agent campaigns on the real Asterisk (campaigns/agent_dialer.py through the router,
routing/pbx/campaign_calls.py): progressive dialing never places more calls than ready
agents, inbound callers go first when the inbound service level is under target, and
preview dialing pops the customer's file before the call (call, skip, timeout).

Agents and customers are Local channels (tests/integration/routing/stack.py): a customer
number's behaviour is set with the dialplan globals HOTLINE_TEST_<number>_TALK_TIME /
_FAIL (17: busy)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
import sqlalchemy as sa

from campaigns.agent_dialer import AgentDialer
from db.models import Call
from db.models.campaigns import Campaign, CampaignAttempt, CampaignContact
from devtools.services.asterisk import AsteriskInstance
from kernel import topics
from kernel.config import Settings
from kernel.config.center import TimeRange
from tests.harness.cti import CtiStack
from tests.integration.routing.stack import RoutingStack, queue, routing_stack, with_routing
from tests.support import bounded_teardown, eventually

pytestmark = pytest.mark.integration

AGENTS = {"1001": {"billing": 8}, "1002": {"billing": 8}, "1003": {"billing": 8}}
ALL_DAY = [TimeRange(start=dt.time(0, 0), end=dt.time(23, 59, 59))]


def settings(preview_seconds: int = 30) -> Any:
    def build(s: Settings) -> Settings:
        s = with_routing(
            s,
            [
                queue(
                    "billing",
                    [("billing >= 5", None)],
                    wrap_up_seconds=0,
                    service_level={"percent": 80, "seconds": 2},
                )
            ],
        )
        windows: Any = {d: list(ALL_DAY) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        campaigns = s.campaigns.model_copy(
            update={
                "windows": windows,
                "call_on_holidays": True,
                "ring_seconds": 10,
                "preview_seconds": preview_seconds,
                "inbound_first": True,
            }
        )
        return s.model_copy(update={"campaigns": campaigns})

    return build


async def make_campaign(stack: RoutingStack, mode: str, numbers: Sequence[str]) -> int:
    async with stack.cti.sessions() as session:
        campaign = Campaign(
            name="欠费提醒外呼",
            kind="agent",  # type: ignore[arg-type]
            state="running",  # type: ignore[arg-type]
            dial_mode=mode,  # type: ignore[arg-type]
            skill="billing",
        )
        session.add(campaign)
        await session.flush()
        assert campaign.id is not None
        for i, number in enumerate(numbers):
            session.add(
                CampaignContact(
                    campaign_id=campaign.id,
                    number=number,
                    name=f"客户{i + 1}",
                    data={"arrears": 128.5 + i},
                )
            )
        await session.commit()
        return campaign.id


async def rows(stack: RoutingStack, model: Any) -> list[dict[str, Any]]:
    table = model.__table__
    async with stack.cti.engine.connect() as conn:
        result = await conn.execute(sa.select(table).order_by(table.c.id))
        return [dict(r._mapping) for r in result.all()]


def campaign_spans(stack: RoutingStack) -> list[tuple[int, int]]:
    """(pop index, end index) of every campaign call, from the bus events."""
    spans = []
    messages = stack.recorder.messages
    for i, m in enumerate(messages):
        if (
            m.topic == "offer"
            and m.data.get("type") == "offer"
            and m.data.get("kind") == "campaign"
        ):
            call_id = m.data["call_id"]
            end = next(
                (
                    j
                    for j in range(i, len(messages))
                    if messages[j].topic == "call"
                    and messages[j].data.get("type") == "call.ended"
                    and messages[j].data.get("call_id") == call_id
                ),
                len(messages),
            )
            spans.append((i, end))
    return spans


def campaign_pops(stack: RoutingStack) -> list[dict[str, Any]]:
    return [p for p in stack.recorder.of("offer", "offer") if p.get("kind") == "campaign"]


def most_at_once(spans: list[tuple[int, int]]) -> int:
    edges = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    now = peak = 0
    for _, step in edges:
        now += step
        peak = max(peak, now)
    return peak


async def set_globals(stack: RoutingStack, values: dict[str, str]) -> None:
    for name, value in values.items():
        await stack.global_var(name, value)


async def test_progressive_campaign_never_outnumbers_ready_agents_and_inbound_goes_first(
    cti_stack: CtiStack, asterisk: AsteriskInstance
) -> None:
    numbers = [f"1370000000{i}" for i in range(1, 7)]
    behaviour = {
        f"HOTLINE_TEST_{numbers[0]}_TALK_TIME": "6",  # frees its agent first
        f"HOTLINE_TEST_{numbers[1]}_TALK_TIME": "20",
        f"HOTLINE_TEST_{numbers[2]}_TALK_TIME": "20",
        f"HOTLINE_TEST_{numbers[3]}_FAIL": "17",  # busy
        f"HOTLINE_TEST_{numbers[4]}_TALK_TIME": "3",
        f"HOTLINE_TEST_{numbers[5]}_TALK_TIME": "3",
    }
    async with routing_stack(cti_stack, asterisk, AGENTS, settings=settings()) as stack:
        await set_globals(stack, behaviour)
        dialer = AgentDialer(stack.service.services)
        try:
            svc, rec = stack.service, stack.recorder
            for agent_id in stack.agents.values():
                await svc.login(agent_id, ready=True)
            campaign_id = await make_campaign(stack, "progressive", numbers)
            await dialer.start()

            def talking_to_customers() -> int:
                return sum(1 for _, lid in stack.answered() if lid.startswith("hlob-cp"))

            await eventually(lambda: talking_to_customers() == 3, 30, "3 agents on campaign calls")
            # All three agents talk to customers: an inbound caller arrives and waits.
            inbound = await stack.caller(
                skill="billing", tier="B", number="13800000009", hangup_after=14
            )
            arrived = rec.index("call", "call.queued", call_id=inbound)
            await eventually(
                lambda: dialer.last_verdict.get(campaign_id, "").startswith("inbound_waiting"),
                10,
                "the campaign stands back while an inbound caller waits",
            )
            await eventually(
                lambda: bool(rec.of("offer", "offer", call_id=inbound)), 30, "inbound offered"
            )
            # The first agent freed after the caller arrived took the caller, not a contact.
            first_offer = next(
                m.data
                for m in rec.messages[arrived:]
                if m.topic == "offer" and m.data.get("type") == "offer"
            )
            assert first_offer["call_id"] == inbound
            await eventually(
                lambda: bool([a for a, lid in stack.answered() if lid == inbound]),
                20,
                "the inbound caller reaches an agent",
            )

            async def all_done() -> bool:
                contacts = await rows(stack, CampaignContact)
                return all(c["state"] in ("done", "pending", "failed") for c in contacts) and (
                    sum(c["state"] == "done" for c in contacts) == 5
                )

            await eventually(all_done, 60, "every reachable customer talked to an agent")
            spans = campaign_spans(stack)
            assert len(spans) >= 6
            assert most_at_once(spans) <= len(stack.agents)  # never more calls than agents
            # Every pop went out before its customer was dialled.
            for pop in campaign_pops(stack):
                lid, number = pop["call_id"], pop["call"]["caller_number"]
                assert pop["call"]["campaign_name"] == "欠费提醒外呼"
                dialled = rec.of("call", "call.offered", call_id=lid, agent=number)
                if dialled:
                    assert rec.index("offer", "offer", call_id=lid) < rec.index(
                        "call", "call.offered", call_id=lid, agent=number
                    )
            contacts = {c["number"]: c for c in await rows(stack, CampaignContact)}
            busy = contacts[numbers[3]]
            assert (busy["state"], busy["last_outcome"], busy["attempts"]) == ("pending", "busy", 1)
            for n in (numbers[0], numbers[1], numbers[2], numbers[4], numbers[5]):
                assert contacts[n]["state"] == "done"
                assert contacts[n]["agent_id"] in stack.agents.values()
            attempts = await rows(stack, CampaignAttempt)
            answered = [a for a in attempts if a["outcome"] == "answered"]
            assert len(answered) == 5
            assert all(a["agent_id"] and a["answered_at"] and a["call_id"] for a in answered)
            # Every campaign call is a call record: direction out, its campaign.
            calls = {c["id"]: c for c in await rows(stack, Call)}
            for a in attempts:
                assert calls[a["call_id"]]["campaign_id"] == campaign_id
                assert calls[a["call_id"]]["direction"] == "out"

            # The busy customer blamed nobody: every agent is ready, no unanswered offers.
            def all_free() -> bool:
                return all(svc.agent(a)["state"] == "available" for a in stack.agents.values())

            await eventually(all_free, 20, "agents free")
            for agent_id in stack.agents.values():
                assert svc.agent(agent_id)["no_answers"] == 0
        finally:
            await bounded_teardown(
                ("agent dialer", dialer.stop),
                ("globals", lambda: set_globals(stack, dict.fromkeys(behaviour, ""))),
            )


@pytest.mark.parametrize("db_backend", ["sqlite"])
async def test_preview_pops_the_file_first_and_the_agent_calls_skips_or_lets_it_go(
    cti_stack: CtiStack, asterisk: AsteriskInstance
) -> None:
    numbers = ["13700000011", "13700000012", "13700000013"]
    behaviour = {f"HOTLINE_TEST_{n}_TALK_TIME": "2" for n in numbers}
    agents = {"1001": {"billing": 8}}
    build = settings(preview_seconds=5)
    async with routing_stack(cti_stack, asterisk, agents, settings=build) as stack:
        await set_globals(stack, behaviour)
        dialer = AgentDialer(stack.service.services)
        try:
            svc, rec, bus = stack.service, stack.recorder, stack.cti.bus
            agent_id = stack.agents["1001"]
            await svc.login(agent_id, ready=True)
            await make_campaign(stack, "preview", numbers)
            await dialer.start()

            def pops() -> list[dict[str, Any]]:
                return campaign_pops(stack)

            async def decide(pop: dict[str, Any], decision: str) -> None:
                await bus.publish(
                    topics.CAMPAIGN,
                    {
                        "type": "campaign.preview_decision",
                        "agent_id": agent_id,
                        "call_id": pop["call_id"],
                        "decision": decision,
                    },
                )

            # 1. the first customer's file pops; nothing is dialled; the agent skips.
            await eventually(lambda: len(pops()) == 1, 20, "the first preview pops")
            first = pops()[0]
            assert first["call"]["dial_mode"] == "preview"
            assert first["call"]["caller_number"] == numbers[0]
            assert first["call"]["campaign_name"] == "欠费提醒外呼"
            assert not rec.of("call", "call.offered", agent=numbers[0])
            await decide(first, "skip")
            # 2. the next customer pops; the agent presses call: dialled after the pop.
            await eventually(lambda: len(pops()) == 2, 20, "the second preview pops")
            second = pops()[1]
            assert second["call"]["caller_number"] == numbers[1]
            await decide(second, "call")
            await eventually(
                lambda: bool(
                    rec.of("call", "call.answered", call_id=second["call_id"], agent="1001")
                ),
                20,
                "the agent talks to the second customer",
            )
            assert rec.index("offer", "offer", call_id=second["call_id"]) < rec.index(
                "call", "call.offered", call_id=second["call_id"], agent=numbers[1]
            )
            # 3. the third pops; no choice within preview_seconds: placed anyway.
            await eventually(lambda: len(pops()) == 3, 30, "the third preview pops")
            third = pops()[2]
            assert third["call"]["caller_number"] == numbers[2]
            await eventually(
                lambda: bool(
                    rec.of("call", "call.answered", call_id=third["call_id"], agent="1001")
                ),
                30,
                "not acted on: the call is placed",
            )

            async def results() -> bool:
                contacts = {c["number"]: c for c in await rows(stack, CampaignContact)}
                return bool(contacts[numbers[2]]["state"] == "done")

            await eventually(results, 30, "the third customer done")
            contacts = {c["number"]: c for c in await rows(stack, CampaignContact)}
            skipped = contacts[numbers[0]]
            # A skip is not an attempt: pending, later, no attempt row.
            assert (skipped["state"], skipped["attempts"]) == ("pending", 0)
            assert skipped["next_attempt_at"] is not None
            assert contacts[numbers[1]]["state"] == "done"
            attempts = await rows(stack, CampaignAttempt)
            assert sorted(a["contact_id"] for a in attempts) == sorted(
                [contacts[numbers[1]]["id"], contacts[numbers[2]]["id"]]
            )
        finally:
            await bounded_teardown(
                ("agent dialer", dialer.stop),
                ("globals", lambda: set_globals(stack, dict.fromkeys(behaviour, ""))),
            )
