"""Ageing: a low tier rises with its wait (so it cannot starve), never to an emergency,
at instants the deadline heap gives (not when the router happens to be asked)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.clock import FakeClock
from routing.core.ageing import AgeingRule
from routing.core.live import LiveCalls
from routing.core.plan import RoutingPlan
from routing.core.router import Router
from routing.core.views import call_view
from tests.unit.routing.support import QUEUES, T0, TIERS, offers, ready_agent, serve

RULE = AgeingRule(step=5, every_seconds=60, max_priority=30)


def make_router(rule: AgeingRule | None = RULE) -> tuple[Router, FakeClock]:
    clock = FakeClock(T0)
    plan = RoutingPlan(
        QUEUES,
        tier_priorities=TIERS,
        emergency_queues=["emergency"],
        emergency_priority=1000,
        ageing=rule,
    )
    return Router(plan, clock), clock


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    since=st.floats(0, 2e9, allow_nan=False),
    every=st.floats(0.001, 1e5, allow_nan=False),
    k=st.integers(1, 10_000),
)
def test_the_rises_counted_up_to_an_instant_agree_with_the_instants_scheduled(
    since: float, every: float, k: int
) -> None:
    rule = AgeingRule(step=1, every_seconds=every, max_priority=999)
    at = rule.instant(since, k)
    assert rule.bumps_due(since, at) == k
    before = math.nextafter(at, -math.inf)
    assert rule.bumps_due(since, before) == (k if rule.instant(since, k) <= before else k - 1)


def test_the_gain_stops_at_the_cap_and_never_lowers_a_priority() -> None:
    assert [RULE.gain(10, n) for n in range(6)] == [0, 5, 10, 15, 20, 20]
    assert RULE.gain(30, 9) == 0
    assert RULE.gain(1000, 9) == 0  # emergencies (and supervisors' raises) do not age
    assert RULE.next_instant(10, T0, 3) == T0 + 240
    assert RULE.next_instant(10, T0, 4) is None  # at the cap
    with pytest.raises(ValueError, match="every_seconds"):
        AgeingRule(step=5, every_seconds=0, max_priority=30)


def test_a_cap_at_or_above_the_emergency_priority_is_refused() -> None:
    with pytest.raises(ValueError, match="below the emergency priority"):
        RoutingPlan(QUEUES, emergency_priority=1000, ageing=AgeingRule(5, 60, 1000))


def test_a_residential_caller_who_waited_goes_before_a_key_account_that_just_came() -> None:
    router, clock = make_router()
    ready_agent(router, 1, {"billing": 9})
    router.enqueue("busy", "billing", priority=30)  # keeps the agent
    router.enqueue("tier-c", "billing", priority=10)
    clock.advance(239)
    router.enqueue("tier-a", "billing", priority=30)
    assert router.calls["tier-c"].effective_priority == 25  # three rises
    clock.advance(1)  # the fourth: tier C now ranks with tier A and waited longer
    serve(router, "busy")
    assert offers(router.wrap_done(1)) == [("tier-c", 1)]


def test_without_ageing_the_key_account_goes_first() -> None:
    router, clock = make_router(None)
    ready_agent(router, 1, {"billing": 9})
    router.enqueue("busy", "billing", priority=30)
    router.enqueue("tier-c", "billing", priority=10)
    clock.advance(3600)
    router.enqueue("tier-a", "billing", priority=30)
    serve(router, "busy")
    assert offers(router.wrap_done(1)) == [("tier-a", 1)]


def test_an_aged_call_never_overtakes_an_emergency() -> None:
    router, clock = make_router()
    ready_agent(router, 1, {"repair": 9, "emergency": 9})
    router.enqueue("busy", "repair", priority=30)
    router.enqueue("tier-c", "repair", priority=10)
    clock.advance(86_400)  # a day in line
    router.enqueue("leak", "emergency", priority=router.plan.priority("emergency"))
    assert router.calls["tier-c"].effective_priority == 30
    serve(router, "busy")
    assert offers(router.wrap_done(1)) == [("leak", 1)]


def test_rises_happen_at_their_instants_however_often_the_router_is_asked() -> None:
    """One router ticked every second, one never: the same offers at the same instants."""
    results = []
    for step in (1.0, None):
        router, clock = make_router()
        ready_agent(router, 1, {"billing": 9})
        router.enqueue("busy", "billing", priority=30)
        router.enqueue("tier-c", "billing", priority=10)
        router.enqueue("tier-b", "billing", priority=20, enqueued_at=T0 + 30)
        events = []
        if step is not None:
            while clock.timestamp() < T0 + 200:
                clock.advance(step)
                events += router.tick()
        clock.set(T0 + 200)
        serve(router, "busy")
        events += router.wrap_done(1)
        # tier-c: 10 + 3 rises = 25 at 200 s; tier-b: 20 + 2 rises (from T0+30) = 30.
        results.append((offers(events), [c.effective_priority for c in router.waiting_calls()]))
    assert results[0] == results[1] == ([("tier-b", 1)], [25])


def test_a_call_back_from_an_offer_keeps_the_rises_of_its_whole_wait() -> None:
    router, clock = make_router()
    ready_agent(router, 1, {"billing": 9})
    ready_agent(router, 2, {"billing": 8})
    router.enqueue("c1", "billing", priority=10)
    assert router.offer_for("c1").agent_id == 1  # type: ignore[union-attr]
    router.not_ready(2, "break")
    clock.advance(150)  # ringing for long (no rise is scheduled while offered)
    router.offer_failed("c1")
    call = router.calls["c1"]
    assert (call.bumps, call.effective_priority, call.head) == (2, 20, True)


def test_a_supervisors_new_priority_ages_from_the_time_already_waited() -> None:
    router, clock = make_router()
    router.enqueue("c1", "billing", priority=10)
    clock.advance(130)
    router.tick()
    router.set_priority("c1", 20)
    assert router.calls["c1"].effective_priority == 30
    router.set_priority("c1", 500)
    assert router.calls["c1"].effective_priority == 500


def test_the_waiting_call_view_shows_the_given_and_the_effective_priority() -> None:
    router, clock = make_router()
    router.enqueue("c1", "billing", priority=10)
    clock.advance(125)
    router.tick()
    (call,) = router.waiting_calls()
    view = call_view(call, "billing", LiveCalls(), {}, clock.timestamp())
    assert (view["priority"], view["effective_priority"]) == (10, 20)
