"""Who goes first: customer tiers, emergencies, and fairness across queues."""

from __future__ import annotations

from routing.core.model import AgentState
from tests.unit.routing.support import make_router, offers, ready_agent


def test_given_tier_c_waiting_when_tier_a_arrives_later_then_a_is_served_first() -> None:
    router, clock = make_router()
    c = router.plan.priority("billing", tier="C")
    a = router.plan.priority("billing", tier="A")
    assert (c, a) == (10, 30)
    router.enqueue("c-1", "billing", priority=c)
    clock.advance(5)
    router.enqueue("a-1", "billing", priority=a)
    clock.advance(1)
    events = ready_agent(router, 1, {"billing": 8})
    assert offers(events) == [("a-1", 1)]
    assert [w.call_id for w in router.waiting_calls()] == ["c-1"]


def test_given_same_tier_when_agent_frees_then_longest_waiting_goes_first() -> None:
    router, clock = make_router()
    for n in range(3):
        router.enqueue(f"b-{n}", "billing", priority=20)
        clock.advance(2)
    assert offers(ready_agent(router, 1, {"billing": 9})) == [("b-0", 1)]


def test_emergency_priority_beats_every_tier() -> None:
    router, clock = make_router()
    assert router.plan.priority("emergency", tier="C") == 1000
    router.enqueue("rep-A", "repair", priority=router.plan.priority("repair", tier="A"))
    clock.advance(30)
    router.enqueue("gas-C", "emergency", priority=router.plan.priority("emergency", tier="C"))
    # A repair specialist who may also take emergencies (step 2: "emergency or repair >= 5"),
    # but the emergency is only at step 0 ("emergency >= 5") for 10 s.
    events = ready_agent(router, 1, {"repair": 7, "emergency": 6})
    assert offers(events) == [("gas-C", 1)]


def test_given_agent_in_two_queues_when_it_frees_then_oldest_call_across_queues_goes_first() -> (
    None
):
    """Cross-queue fairness: app_queue would serve per queue; the router looks at both."""
    router, clock = make_router()
    router.enqueue("repair-old", "repair", priority=10)
    clock.advance(3)
    router.enqueue("billing-new", "billing", priority=10)
    clock.advance(3)
    router.enqueue("repair-newest", "repair", priority=10)
    events = ready_agent(router, 1, {"billing": 8, "repair": 8})
    assert offers(events) == [("repair-old", 1)]
    router.answered("repair-old")
    router.call_ended("repair-old")
    clock.advance(30)  # repair's wrap-up
    assert offers(router.tick()) == [("billing-new", 1)]


def test_fairness_respects_priority_before_age_across_queues() -> None:
    router, clock = make_router()
    router.enqueue("billing-C-old", "billing", priority=10)
    clock.advance(10)
    router.enqueue("repair-A", "repair", priority=30)
    events = ready_agent(router, 1, {"billing": 8, "repair": 8})
    assert offers(events) == [("repair-A", 1)]


def test_an_agent_only_gets_calls_it_is_eligible_for() -> None:
    router, _ = make_router()
    router.enqueue("billing-1", "billing", priority=10)
    events = ready_agent(router, 1, {"repair": 9})
    assert offers(events) == []
    assert router.agents[1].state is AgentState.AVAILABLE


def test_language_must_match() -> None:
    router, clock = make_router()
    router.enqueue("en-1", "billing", priority=10, language="en")
    clock.advance(1)
    router.enqueue("zh-1", "billing", priority=10, language="zh")
    assert offers(ready_agent(router, 1, {"billing": 9}, languages=["zh"])) == [("zh-1", 1)]
    assert offers(ready_agent(router, 2, {"billing": 9}, languages=["zh", "en"])) == [("en-1", 2)]
