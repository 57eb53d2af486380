"""The router's side of the desk's call controls (issue 14): a blind transfer releases the
agent and offers the call to a chosen agent at the head of its priority; an attended
transfer hands the call over; the browser phone's registration is the agent's presence."""

from __future__ import annotations

import pytest

from routing.core.model import AgentNotFree, AgentState, PhoneOffline, Presence
from routing.core.router import PHONE_OFFLINE
from tests.unit.routing.support import make_router, offers, ready_agent


def test_blind_transfer_to_an_agent_offers_it_and_wraps_up_the_first() -> None:
    router, clock = make_router()
    ready_agent(router, 1, {"billing": 8})
    router.enqueue("c1", "billing", priority=20)
    router.answered("c1")
    ready_agent(router, 2, {"repair": 8})  # not even billing's: the agent chose it
    clock.advance(30)
    events = router.transfer_to("c1", 2, "billing", priority=20, enqueued_at=0.0)
    assert offers(events) == [("c1", 2)]
    assert router.agents[1].state is AgentState.WRAP_UP
    assert router.calls["c1"].priority == 20
    assert router.calls["c1"].head
    # Not answered: back in line at the head of its priority, like any unanswered offer.
    router.offer_failed("c1")
    assert router.calls["c1"].waiting
    assert router.waiting_calls("billing")[0].call_id == "c1"


def test_blind_transfer_to_a_busy_agent_is_refused_and_changes_nothing() -> None:
    router, _ = make_router()
    ready_agent(router, 1, {"billing": 8})
    router.enqueue("c1", "billing", priority=20)
    router.answered("c1")
    router.add_agent(2, "1002", {"billing": 8}, ["zh"])
    router.login(2)  # signed in, not ready
    with pytest.raises(AgentNotFree):
        router.transfer_to("c1", 2, "billing", priority=20)
    assert router.talking == {"c1": 1}
    assert router.agents[1].state is AgentState.ON_CALL


def test_transferred_away_starts_wrap_up_and_the_call_may_queue_again() -> None:
    router, _ = make_router()
    ready_agent(router, 1, {"billing": 8})
    router.enqueue("c1", "billing", priority=20)
    router.answered("c1")
    router.transferred_away("c1")
    assert router.agents[1].state is AgentState.WRAP_UP
    assert "c1" not in router.talking
    router.enqueue("c1", "billing", priority=20)  # call.queued from the holding queue
    assert router.calls["c1"].waiting


def test_hand_over_puts_the_consulted_agent_on_the_call() -> None:
    router, _ = make_router()
    ready_agent(router, 1, {"billing": 8})
    ready_agent(router, 2, {"billing": 5})
    router.enqueue("c1", "billing", priority=20)
    router.answered("c1")
    router.hand_over("c1", 2, "billing")
    assert router.talking == {"c1": 2}
    assert router.agents[1].state is AgentState.WRAP_UP
    assert router.agents[2].state is AgentState.ON_CALL
    router.call_ended("c1")
    assert router.agents[2].state.value == "wrap_up"


def test_browser_phone_gone_makes_the_agent_not_ready_and_ready_needs_it_back() -> None:
    router, _ = make_router()
    ready_agent(router, 1, {"billing": 8})
    router.set_phone(1, "PJSIP/1001-web", Presence.IDLE)
    assert router.agents[1].offerable
    router.set_presence(1, Presence.ABSENT)  # the page was closed
    assert router.agents[1].state is AgentState.NOT_READY
    assert router.agents[1].reason == PHONE_OFFLINE
    assert offers(router.enqueue("c1", "billing", priority=10)) == []
    with pytest.raises(PhoneOffline):
        router.ready(1)
    router.set_presence(1, Presence.IDLE)  # registered again
    assert offers(router.ready(1)) == [("c1", 1)]


def test_a_desk_phone_that_is_absent_keeps_the_agent_ready_but_not_offered() -> None:
    router, _ = make_router()
    ready_agent(router, 1, {"billing": 8})
    router.set_presence(1, Presence.ABSENT)
    assert router.agents[1].state is AgentState.AVAILABLE
    assert offers(router.enqueue("c1", "billing", priority=10)) == []


def test_browser_phone_gone_during_a_call_leaves_the_agent_not_ready_after_wrap_up() -> None:
    router, clock = make_router()
    ready_agent(router, 1, {"billing": 8})
    router.set_phone(1, "PJSIP/1001-web", Presence.IDLE)
    router.enqueue("c1", "billing", priority=10)
    router.answered("c1")
    router.set_presence(1, Presence.ABSENT)  # the page closed mid-call
    router.call_ended("c1")
    clock.advance(600)
    router.tick()
    assert router.agents[1].state is AgentState.NOT_READY
    assert router.agents[1].reason == PHONE_OFFLINE
