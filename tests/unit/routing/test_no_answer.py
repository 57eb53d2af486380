"""An offer nobody answers: the call returns to the head of the line within its priority,
the agent pauses."""

from __future__ import annotations

import pytest

from routing.core.model import AgentState, CallKind
from tests.unit.routing.support import T0, make_router, offers, ready_agent, serve, states


def test_no_answer_requeues_at_head_and_pauses_the_agent() -> None:
    router, clock = make_router(max_no_answer=1)
    ready_agent(router, 1, {"billing": 9})
    router.enqueue("first", "billing", priority=10)
    clock.advance(5)
    # Same tier, in line since before "first" (e.g. it came back from another queue).
    router.enqueue("before", "billing", priority=10, enqueued_at=T0 - 60)
    router.enqueue("higher", "billing", priority=30)  # a higher tier, arrived later
    clock.advance(15)
    events = router.offer_failed("first")
    assert states(events) == [(1, "not_ready", "no_answer")]
    assert router.calls["first"].head
    # Head of the line within its own priority: after the higher tier, before its own.
    assert [c.call_id for c in router.waiting_calls()] == ["higher", "first", "before"]
    assert offers(ready_agent(router, 2, {"billing": 8})) == [("higher", 2)]
    serve(router, "higher")
    assert offers(router.wrap_done(2)) == [("first", 2)]


def test_a_requeued_call_never_goes_above_a_waiting_emergency() -> None:
    """The issue's bug: a tier-C caller back from an unanswered offer was served before
    a gas leak waiting in another queue the same agent serves."""
    router, clock = make_router(max_no_answer=1)
    ready_agent(router, 1, {"repair": 9})
    router.enqueue("tier-c", "repair", priority=10)
    router.enqueue("leak", "emergency", priority=router.plan.priority("emergency"))
    clock.advance(20)
    router.offer_failed("tier-c")
    assert router.calls["tier-c"].head
    events = ready_agent(router, 2, {"repair": 9, "emergency": 9})
    assert offers(events) == [("leak", 2)]


def test_an_offer_the_pbx_could_not_connect_also_keeps_the_head_within_its_priority() -> None:
    router, _ = make_router()
    ready_agent(router, 1, {"billing": 9})
    router.enqueue("c1", "billing", priority=10)
    router.suspend()
    router.offer_cancelled("c1", requeue=True)
    router.enqueue("c0", "billing", priority=10, enqueued_at=T0 - 30)
    router.enqueue("c2", "billing", priority=20)
    assert [c.call_id for c in router.waiting_calls()] == ["c2", "c1", "c0"]


def test_below_the_pause_limit_the_agent_is_skipped_for_that_call_only() -> None:
    router, clock = make_router(max_no_answer=2)
    ready_agent(router, 1, {"billing": 9})
    clock.advance(1)
    ready_agent(router, 2, {"billing": 7})
    router.enqueue("c1", "billing", priority=10)
    router.enqueue("c2", "billing", priority=10)
    # c1 -> agent 1 (best level), c2 -> agent 2.
    assert router.offer_for("c1").agent_id == 1  # type: ignore[union-attr]
    router.answered("c2")
    events = router.offer_failed("c1")  # agent 1 stays available but skips c1
    assert router.agents[1].state is AgentState.AVAILABLE
    assert offers(events) == []
    router.call_ended("c2")
    clock.advance(10)
    assert offers(router.tick()) == [("c1", 2)]
    router.enqueue("c3", "billing", priority=10)
    assert router.offer_for("c3").agent_id == 1  # type: ignore[union-attr]
    assert states(router.offer_failed("c3")) == [(1, "not_ready", "no_answer")]


def test_an_answer_resets_the_no_answer_count() -> None:
    router, _ = make_router(max_no_answer=2)
    ready_agent(router, 1, {"billing": 9})
    router.enqueue("c1", "billing", priority=10)
    router.offer_failed("c1")
    router.enqueue("c2", "billing", priority=10)
    router.answered("c2")
    assert router.agents[1].no_answers == 0


def test_caller_hanging_up_during_the_offer_frees_the_agent_without_penalty() -> None:
    router, _ = make_router(max_no_answer=1)
    ready_agent(router, 1, {"billing": 9})
    router.enqueue("c1", "billing", priority=10)
    router.enqueue("c2", "billing", priority=10)
    events = router.call_ended("c1")
    assert offers(events) == [("c2", 1)]
    assert router.agents[1].no_answers == 0
    assert "c1" not in router.calls


def test_pbx_failure_requeues_and_suspension_holds_offers_until_resumed() -> None:
    router, _ = make_router()
    ready_agent(router, 1, {"billing": 9})
    router.enqueue("c1", "billing", priority=10)
    router.suspend()
    assert offers(router.offer_cancelled("c1", requeue=True)) == []
    assert router.agents[1].state is AgentState.AVAILABLE
    assert offers(router.enqueue("c2", "billing", priority=10)) == []
    assert offers(router.resume()) == [("c1", 1)]


def test_a_twilio_caller_who_hangs_up_waiting_leaves_the_line_and_never_overflows() -> None:
    # A Twilio caller waits in Twilio's queue: the dialplan's overflow cannot move it, so
    # it stays at its queue's last step; its hang-up is an abandon like any caller's.
    router, clock = make_router()
    router.enqueue("CA1", "billing", priority=10, kind=CallKind.TWILIO, may_overflow=False)
    clock.advance(3600)
    assert router.tick() == []
    assert [c.call_id for c in router.waiting_calls()] == ["CA1"]
    router.call_ended("CA1")
    assert router.waiting_calls() == []
    assert router.stats[0].abandoned == 1


@pytest.mark.parametrize("naive", [False, True])
def test_a_requeued_caller_who_asks_for_a_callback_leaves_the_head_of_the_line(
    naive: bool,
) -> None:
    router, clock = make_router(naive=naive, max_no_answer=1)
    ready_agent(router, 1, {"billing": 9})
    router.enqueue("c1", "billing", priority=10)
    router.enqueue("c0", "billing", priority=10, enqueued_at=T0 - 30)
    clock.advance(15)
    router.offer_failed("c1")
    router.to_callback("c1")  # pressed 1 while waiting again: no longer the head
    assert offers(ready_agent(router, 2, {"billing": 9})) == [("c0", 2)]
