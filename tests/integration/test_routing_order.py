"""Ten callers of mixed tiers and skills, three agents with different skills, on the real
Asterisk 22: every call is answered by an eligible agent, in the router's order
(priority, then time in line, across all the queues an agent serves), and the
screen-pop always goes out before the agent's phone is dialled."""

from __future__ import annotations

import pytest

from hotline.config import Settings
from hotline.devservices.asterisk import AsteriskInstance
from tests.harness.cti import CtiStack
from tests.integration.routing_stack import queue, routing_stack, with_routing
from tests.support import eventually

pytestmark = pytest.mark.integration

AGENTS = {
    "1001": {"billing": 8, "general": 6},
    "1002": {"repair": 7, "general": 4},
    "1003": {"complaint": 7, "general": 8},
}
# (label, skill, tier) in arrival order.
CALLERS = [
    ("c0", "billing", "C"),
    ("c1", "general", "C"),
    ("c2", "repair", "B"),
    ("c3", "billing", "A"),
    ("c4", "complaint", "C"),
    ("c5", "general", "A"),
    ("c6", "repair", "C"),
    ("c7", "billing", "B"),
    ("c8", "general", "B"),
    ("c9", "complaint", "A"),
]


def settings(s: Settings) -> Settings:
    # Long first steps: no relaxation during the test, so who may take what is fixed:
    # billing -> 1001; repair -> 1002; complaint -> 1003; general (>= 5) -> 1001, 1003.
    long = 600
    return with_routing(
        s,
        [
            queue("billing", [("billing >= 7", long), ("general", None)], wrap_up_seconds=0),
            queue(
                "repair", [("repair >= 6", long), ("repair or general", None)], wrap_up_seconds=0
            ),
            queue("complaint", [("complaint >= 6", long), ("general", None)], wrap_up_seconds=0),
            queue("general", [("general >= 5", long), ("general", None)], wrap_up_seconds=0),
        ],
    )


async def test_ten_callers_three_agents_served_in_order_by_eligible_agents(
    cti_stack: CtiStack, asterisk: AsteriskInstance
) -> None:
    async with routing_stack(cti_stack, asterisk, AGENTS, settings=settings) as stack:
        for ext in AGENTS:
            await stack.global_var(f"HOTLINE_TEST_{ext}_TALK_TIME", "1")
        try:
            svc, ids = stack.service, stack.agents
            for ext in AGENTS:
                await svc.login(ids[ext])  # logged in, not ready: callers wait
            label: dict[str, str] = {}
            for n, (name, skill, tier) in enumerate(CALLERS):
                linkedid = await stack.caller(skill=skill, tier=tier, number=f"1380000000{n}")
                label[linkedid] = name
            waiting = svc.waiting_calls()
            assert len(waiting) == 10
            assert waiting[0]["tier"] == "A"  # line order: priority first
            assert all(w["estimated_wait"] is None for w in waiting)  # nobody ready yet

            # Phase 1: agents with disjoint eligible sets at the same time.
            await svc.ready(ids["1002"])
            await svc.ready(ids["1003"])
            await eventually(lambda: len(stack.answered()) >= 7, 60, "7 calls answered")
            await eventually(lambda: len(svc.waiting_calls()) == 3, 10, "3 billing calls left")
            # Phase 2: the billing specialist.
            await svc.ready(ids["1001"])
            await eventually(lambda: len(stack.answered()) == 10, 60, "all 10 answered")

            by_agent: dict[str, list[str]] = {}
            for ext, linkedid in stack.answered():
                by_agent.setdefault(ext, []).append(label[linkedid])
            assert by_agent == {
                "1002": ["c2", "c6"],  # repair: B before C
                "1003": ["c5", "c9", "c8", "c1", "c4"],  # general+complaint, priority then age
                "1001": ["c3", "c7", "c0"],  # billing: A, B, C
            }

            # The screen-pop (offer) preceded the dial of the agent (call.offered).
            for ext, linkedid in stack.answered():
                offer = stack.recorder.index("offer", "offer", call_id=linkedid)
                delivered = stack.recorder.index("offer", "offer.delivered", call_id=linkedid)
                dialled = stack.recorder.index("call", "call.offered", call_id=linkedid, agent=ext)
                assert offer < delivered < dialled
                (pop,) = stack.recorder.of("offer", "offer", call_id=linkedid)
                assert pop["extension"] == ext
                assert pop["call"]["tier"] in "ABC"
                assert pop["channel"]

            # Agents went reserved -> on_call -> wrap_up -> available, published on "agent".
            states = [
                e["state"] for e in stack.recorder.of("agent", "agent.state", agent_id=ids["1002"])
            ]
            assert states[:5] == ["not_ready", "available", "reserved", "on_call", "wrap_up"]

            async def logged() -> bool:
                rows = [await stack.cti.call_row(lid) for lid in label]
                return all(r is not None and r["disposition"] == "answered" for r in rows)

            await eventually(logged, 30, "ten answered calls in the call log")
            for linkedid, name in label.items():
                row = await stack.cti.call_row(linkedid)
                assert row is not None
                (ext,) = row["agents"]
                assert name in by_agent[ext]
                assert row["agent_id"] == ids[ext]
        finally:
            for ext in AGENTS:
                await stack.global_var(f"HOTLINE_TEST_{ext}_TALK_TIME", "")
