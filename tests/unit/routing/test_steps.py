"""Relaxation steps: eligibility widens exactly at the step timeouts; overflow after the last."""

from __future__ import annotations

from routing.core.model import Offer, Overflowed
from routing.core.plan import QueueSpec
from tests.unit.routing.support import T0, make_router, offers, ready_agent


def test_given_only_a_level_4_agent_when_steps_time_out_then_offer_exactly_at_20s() -> None:
    router, clock = make_router()
    ready_agent(router, 1, {"billing": 4})
    assert offers(router.enqueue("c1", "billing", priority=10)) == []
    clock.advance(19.999)
    assert offers(router.tick()) == []
    assert router.calls["c1"].step == 0
    clock.advance(0.001)
    events = router.tick()
    assert offers(events) == [("c1", 1)]
    assert events[-1].at == T0 + 20


def test_general_agents_join_exactly_after_both_timeouts() -> None:
    router, clock = make_router()
    ready_agent(router, 1, {"general": 9})
    router.enqueue("c1", "billing", priority=10)
    clock.advance(59.9)
    assert offers(router.tick()) == []
    assert router.calls["c1"].step == 1
    clock.advance(0.1)
    assert offers(router.tick()) == [("c1", 1)]


def test_a_late_tick_decides_at_the_deadline_itself() -> None:
    """Deadlines are handled at their own instant, however late the adapter ticks."""
    router, clock = make_router()
    ready_agent(router, 1, {"billing": 4})
    router.enqueue("c1", "billing", priority=10)
    clock.advance(33)
    events = router.tick()
    offer = events[-1]
    assert offers(events) == [("c1", 1)]
    assert isinstance(offer, Offer)
    assert (offer.at, offer.wait_seconds) == (T0 + 20, 20)


def test_earlier_step_specialist_beats_a_higher_general_level() -> None:
    router, _ = make_router()
    router.add_agent(2, "1002", {"billing": 3}, ["zh"])
    router.add_agent(3, "1003", {"general": 10}, ["zh"])
    router.login(3, ready=True)  # idle longer, higher level -- but only for step 2
    router.login(2, ready=True)
    # A call already 61 s in the queue (e.g. rebuilt after a restart) is at step 2.
    events = router.enqueue("c1", "billing", priority=10, enqueued_at=T0 - 61, step_base=T0 - 61)
    assert router.calls["c1"].step == 2
    assert offers(events) == [("c1", 2)]


def test_last_step_timeout_overflows_with_the_queue_action() -> None:
    queues = [
        QueueSpec(
            "business",
            "business",
            [("business >= 5", 30), ("business or general", 60)],
            overflow_action="voicemail_ticket",
        )
    ]
    router, clock = make_router(queues)
    router.enqueue("c1", "business", priority=10)
    clock.advance(89.999)
    assert router.tick() == []
    clock.advance(0.001)
    (event,) = router.tick()
    assert isinstance(event, Overflowed)
    assert (event.call_id, event.action, event.at) == ("c1", "voicemail_ticket", T0 + 90)
    assert "c1" not in router.calls
