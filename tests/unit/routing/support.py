"""Small builders for routing scenarios: a plan, a router on a FakeClock, and helpers
that read decisions out of the router's events."""

from __future__ import annotations

from collections.abc import Sequence

from kernel.clock import FakeClock
from routing.core.model import AgentChanged, Offer, RouterEvent
from routing.core.plan import QueueSpec, RoutingPlan
from routing.core.router import Router

T0 = 1_763_800_000.0

QUEUES = [
    QueueSpec(
        "billing", "billing", [("billing >= 7", 20), ("billing >= 3", 40), ("general", None)]
    ),
    QueueSpec(
        "repair", "repair", [("repair >= 6", 20), ("repair or general", None)], wrap_up_seconds=30
    ),
    QueueSpec(
        "emergency", "emergency", [("emergency >= 5", 10), ("emergency or repair >= 5", None)]
    ),
]
TIERS = {"A": 30, "B": 20, "C": 10}


def make_router(
    queues: Sequence[QueueSpec] = QUEUES,
    *,
    naive: bool = False,
    max_no_answer: int = 1,
) -> tuple[Router, FakeClock]:
    clock = FakeClock(T0)
    plan = RoutingPlan(
        queues,
        tier_priorities=TIERS,
        emergency_queues=["emergency"],
        emergency_priority=1000,
        max_no_answer_before_pause=max_no_answer,
    )
    return Router(plan, clock, naive=naive), clock


def ready_agent(
    router: Router, agent_id: int, skills: dict[str, int], languages: Sequence[str] = ("zh",)
) -> list[RouterEvent]:
    router.add_agent(agent_id, str(1000 + agent_id), skills, languages)
    return router.login(agent_id, ready=True)


def offers(events: Sequence[RouterEvent]) -> list[tuple[str, int]]:
    return [(e.call_id, e.agent_id) for e in events if isinstance(e, Offer)]


def states(events: Sequence[RouterEvent]) -> list[tuple[int, str, str | None]]:
    return [(e.agent_id, e.state.value, e.reason) for e in events if isinstance(e, AgentChanged)]


def serve(router: Router, call_id: str) -> None:
    """The offered call is answered and ends at once (agent goes to wrap-up)."""
    router.answered(call_id)
    router.call_ended(call_id)
