"""Agents: selection among equals, the state machine, wrap-up, not-ready requests."""

from __future__ import annotations

import pytest

from routing.core.model import AgentState, IllegalTransition, UnknownReason, WrapUpEnded
from tests.unit.routing.support import make_router, offers, ready_agent, states


def test_longest_idle_agent_wins_among_equals() -> None:
    router, clock = make_router()
    for agent_id in (3, 1, 2):  # ready in this order, one second apart
        ready_agent(router, agent_id, {"billing": 8})
        clock.advance(1)
    assert offers(router.enqueue("c1", "billing", priority=10)) == [("c1", 3)]
    assert offers(router.enqueue("c2", "billing", priority=10)) == [("c2", 1)]


def test_best_level_for_the_step_before_idle_time() -> None:
    router, clock = make_router()
    ready_agent(router, 1, {"billing": 7})
    clock.advance(100)
    ready_agent(router, 2, {"billing": 9})
    assert offers(router.enqueue("c1", "billing", priority=10)) == [("c1", 2)]


def test_same_level_ties_on_agent_id_when_idle_equally_long() -> None:
    router, _ = make_router()
    ready_agent(router, 5, {"billing": 8})
    ready_agent(router, 4, {"billing": 8})
    assert offers(router.enqueue("c1", "billing", priority=10)) == [("c1", 4)]


def test_wrap_up_is_respected_then_the_agent_takes_the_next_call() -> None:
    router, clock = make_router()
    ready_agent(router, 1, {"repair": 8})
    router.enqueue("c1", "repair", priority=10)
    router.answered("c1")
    clock.advance(60)
    router.call_ended("c1")
    assert router.agents[1].state is AgentState.WRAP_UP
    assert offers(router.enqueue("c2", "repair", priority=10)) == []
    clock.advance(29.99)
    assert offers(router.tick()) == []
    clock.advance(0.01)
    events = router.tick()
    assert offers(events) == [("c2", 1)]
    wrapped = [e for e in events if isinstance(e, WrapUpEnded)]
    assert [(w.call_id, w.wrap_seconds, w.code) for w in wrapped] == [("c1", 30.0, None)]


def test_wrap_done_ends_wrap_up_early_with_a_code() -> None:
    router, clock = make_router()
    ready_agent(router, 1, {"repair": 8})
    router.enqueue("c1", "repair", priority=10)
    router.answered("c1")
    router.call_ended("c1")
    clock.advance(4)
    events = router.wrap_done(1, "resolved")
    (wrapped,) = [e for e in events if isinstance(e, WrapUpEnded)]
    assert (wrapped.wrap_seconds, wrapped.code) == (4.0, "resolved")
    assert router.agents[1].state is AgentState.AVAILABLE
    # The wrap-up was already reported: a later code is reported once more, then refused.
    assert [e.code for e in router.wrap_done(1, "again") if isinstance(e, WrapUpEnded)] == ["again"]
    with pytest.raises(IllegalTransition):
        router.wrap_done(1, "third")


def test_not_ready_while_on_a_call_applies_after_wrap_up() -> None:
    router, clock = make_router()
    ready_agent(router, 1, {"billing": 8})
    router.enqueue("c1", "billing", priority=10)
    router.answered("c1")
    router.not_ready(1, "lunch")
    assert router.agents[1].state is AgentState.ON_CALL
    router.call_ended("c1")
    clock.advance(10)
    events = router.tick()
    assert states(events) == [(1, "not_ready", "lunch")]
    assert offers(router.enqueue("c2", "billing", priority=10)) == []


def test_illegal_transitions_raise() -> None:
    router, _ = make_router()
    router.add_agent(1, "1001", {"billing": 8}, ["zh"])
    with pytest.raises(IllegalTransition):
        router.not_ready(1, "break")  # logged out
    router.login(1, ready=True)
    router.enqueue("c1", "billing", priority=10)
    router.answered("c1")
    with pytest.raises(IllegalTransition):
        router.logout(1)  # on a call
    with pytest.raises(IllegalTransition):
        router.ready(1)
    with pytest.raises(UnknownReason):
        router.not_ready(1, "gone fishing")
    with pytest.raises(IllegalTransition):
        router.agents[1].move(AgentState.AVAILABLE, 0.0)


def test_state_changes_are_reported_in_order() -> None:
    router, _ = make_router()
    router.add_agent(1, "1001", {"billing": 8}, ["zh"])
    assert states(router.login(1)) == [(1, "not_ready", None)]
    assert states(router.ready(1)) == [(1, "available", None)]
    assert states(router.enqueue("c1", "billing", priority=10)) == [(1, "reserved", None)]
    assert states(router.answered("c1")) == [(1, "on_call", None)]
    assert states(router.call_ended("c1")) == [(1, "wrap_up", None)]
    assert states(router.not_ready(1, "break")) == [(1, "not_ready", "break")]
    assert states(router.logout(1)) == [(1, "logged_out", None)]


def test_skills_change_live_and_the_next_decision_uses_them() -> None:
    router, _ = make_router()
    ready_agent(router, 1, {"repair": 8})
    assert offers(router.enqueue("c1", "billing", priority=10)) == []
    assert offers(router.set_skills(1, {"repair": 8, "billing": 7})) == [("c1", 1)]


def test_presence_absent_phone_is_never_offered() -> None:
    from routing.core.model import Presence

    router, _ = make_router()
    ready_agent(router, 1, {"billing": 8})
    router.set_presence(1, Presence.ABSENT)
    assert offers(router.enqueue("c1", "billing", priority=10)) == []
    assert offers(router.set_presence(1, Presence.IDLE)) == [("c1", 1)]
