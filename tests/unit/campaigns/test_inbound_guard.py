"""Inbound first, pure (campaigns/inbound_guard.py): when a new agent-campaign call may be
placed, from the router's figures (routing/pbx/campaign_calls.py inbound_view)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.inbound_guard import InboundQueue, under_target, verdict
from routing.core.model import CallKind, Offer
from routing.core.plan import QueueSpec
from routing.pbx.campaign_calls import inbound_view, outcome_of
from tests.unit.routing.support import make_router


def q(**kw: object) -> InboundQueue:
    base: dict[str, object] = {"name": "billing", "sl_seconds": 20.0, "sl_percent": 80.0}
    base.update(kw)
    return InboundQueue(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("free", "queues", "inbound_first", "expected"),
    [
        (1, [q()], True, (True, "ok")),
        (0, [q()], True, (False, "no_agent")),
        (2, [q(waiting=1, oldest_wait=1.0)], True, (False, "inbound_waiting:billing")),
        (2, [q(waiting=1, oldest_wait=1.0)], False, (False, "inbound_waiting:billing")),
        (1, [q(oldest_wait=25.0)], True, (False, "over_wait:billing")),
        (1, [q(oldest_wait=25.0)], False, (True, "ok")),
        (1, [q(answered=10, answered_in_sl=7)], True, (False, "under_level:billing")),
        (1, [q(answered=10, answered_in_sl=8)], True, (True, "ok")),
        (1, [q(answered=3, answered_in_sl=0)], True, (True, "ok")),  # too few to say
        (1, [q(answered=10, answered_in_sl=1)], False, (True, "ok")),
        (1, [q(), q(name="gas", answered=10, answered_in_sl=2)], True, (False, "under_level:gas")),
        (0, [q(waiting=1)], True, (False, "inbound_waiting:billing")),  # the reason is inbound
    ],
)
def test_given_inbound_figures_then_the_verdict_is(
    free: int, queues: list[InboundQueue], inbound_first: bool, expected: tuple[bool, str]
) -> None:
    v = verdict(free, queues, inbound_first=inbound_first)
    assert (v.may_place, v.reason) == expected


@given(
    free=st.integers(0, 5),
    waiting=st.integers(0, 3),
    answered=st.integers(0, 50),
    in_sl=st.integers(0, 50),
    oldest=st.none() | st.floats(0, 100),
    inbound_first=st.booleans(),
)
def test_a_campaign_never_places_while_an_inbound_caller_waits_or_nobody_is_free(
    free: int,
    waiting: int,
    answered: int,
    in_sl: int,
    oldest: float | None,
    inbound_first: bool,
) -> None:
    queue = q(
        waiting=waiting, answered=answered, answered_in_sl=min(in_sl, answered), oldest_wait=oldest
    )
    v = verdict(free, [queue], inbound_first=inbound_first)
    if waiting or not free:
        assert not v.may_place
    if inbound_first and under_target(queue):
        assert not v.may_place
    if free and not waiting and not under_target(queue):
        assert v.may_place


def test_view_reads_the_router_and_a_campaign_call_stays_below_inbound() -> None:
    router, clock = make_router([QueueSpec("billing", "billing", [("billing >= 5", None)])])
    router.add_agent(1, "1001", {"billing": 8}, ["zh"])
    router.add_agent(2, "1002", {"billing": 8}, ["zh"])
    router.login(1, ready=True)
    assert inbound_view(router, "billing", clock.timestamp())[0] == 1
    router.login(2, ready=True)
    free, views = inbound_view(router, "billing", clock.timestamp())
    assert (free, views[0]["waiting"], views[0]["oldest_wait"]) == (2, 0, None)
    events = router.enqueue(
        "cp-1", "billing", priority=-1, kind=CallKind.CAMPAIGN, may_overflow=False
    )
    assert [type(e).__name__ for e in events].count("Offer") == 1
    free, views = inbound_view(router, "billing", clock.timestamp())
    assert free == 1  # one agent reserved for the campaign call
    router.answered("cp-1")
    assert router.stats[0].answered == 0  # outbound: not in the inbound service level
    # An inbound caller and a campaign call wait together: the freed agent takes the caller.
    router.enqueue("in-1", "billing", priority=10)  # agent 2 takes it at once
    router.enqueue("in-2", "billing", priority=10)
    clock.advance(30)
    free, views = inbound_view(router, "billing", clock.timestamp())
    assert (free, views[0]["waiting"], views[0]["oldest_wait"]) == (0, 1, 30.0)
    assert not verdict(free, [InboundQueue.of(views[0])]).may_place
    router.enqueue("cp-2", "billing", priority=-1, kind=CallKind.CAMPAIGN, may_overflow=False)
    clock.advance(3600)
    router.tick()
    assert router.calls["cp-2"].effective_priority == -1  # never aged
    router.call_ended("cp-1")
    events = router.wrap_done(1) if router.agents[1].state.value == "wrap_up" else router.tick()
    offers = [e for e in events if isinstance(e, Offer)]
    assert [o.call_id for o in offers] == ["in-2"]


@pytest.mark.parametrize(
    ("cause", "outcome"),
    [
        ("17", "busy"),
        ("19", "no_answer"),
        ("16", "no_answer"),
        (None, "no_answer"),
        ("1", "failed"),
        ("34", "failed"),
    ],
)
def test_a_customer_leg_that_never_reached_the_agent_is_classified(
    cause: str | None, outcome: str
) -> None:
    assert outcome_of(cause) == outcome
