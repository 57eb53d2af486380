"""Ten callers of mixed tiers and skills, three agents with different skills, on the real
Asterisk 22: every call is answered by an eligible agent, in the router's order
(priority, then time in line, across all the queues an agent serves), and the
screen-pop always goes out before the agent's phone is dialled."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from db.models import AgentStateHistory
from devtools.services.asterisk import AsteriskInstance
from kernel.config import Settings
from tests.harness.cti import CtiStack
from tests.integration.routing.stack import queue, routing_stack, with_routing
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
            # Wait estimates: callers get theirs, new callers hear the queue's (global
            # HOTLINE_EWT_<queue> = "<minutes>,<epoch>", read by [hotline-queue]).
            await svc.announcer.refresh()
            general = next(q for q in svc.queues() if q["queue"] == "general")
            assert general["agents"] == 2  # 1003, and 1002 from step 2 on; 1001 is not ready
            assert general["estimated_wait_minutes"] >= 1
            for q in svc.queues():
                ewt = await stack.cti.bridge.commands.get_var("", f"HOTLINE_EWT_{q['queue']}")
                minutes = q["estimated_wait_minutes"]
                assert ewt.split(",")[0] == ("" if minutes is None else str(minutes))
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
            # Every state change is in agent_state_history, the current one still open.
            table = AgentStateHistory.__table__  # type: ignore[attr-defined]
            async with stack.cti.engine.connect() as conn:
                rows = (
                    await conn.execute(
                        sa.select(table.c.state, table.c.ended_at)
                        .where(table.c.user_id == ids["1002"])
                        .order_by(table.c.id)
                    )
                ).all()
            assert [r[0] for r in rows][:5] == [
                "not_ready",
                "available",
                "reserved",
                "on_call",
                "wrap_up",
            ]
            assert [r[1] is None for r in rows].count(True) == 1
            assert rows[-1][1] is None
            served = {q["queue"]: q["answered"] for q in svc.queues()}
            assert served == {"billing": 3, "repair": 2, "complaint": 2, "general": 3}
            for linkedid, name in label.items():
                row = await stack.cti.call_row(linkedid)
                assert row is not None
                (ext,) = row["agents"]
                assert name in by_agent[ext]
                assert row["agent_id"] == ids[ext]
        finally:
            for ext in AGENTS:
                await stack.global_var(f"HOTLINE_TEST_{ext}_TALK_TIME", "")
