"""The pure rules of a repeat contact: a higher priority raises the open ticket (an
emergency is never absorbed by a lesser one), and its running clocks only tighten."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.models.tickets import TicketPriority
from tickets.repeats import raised_priority
from tickets.sla_policy import ClockPlan, tightened

P = TicketPriority
T0 = dt.datetime(2026, 11, 18, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("open_ticket", "contact", "raised"),
    [
        (P.NORMAL, P.URGENT, P.URGENT),  # the gas leak about an open repair ticket
        (P.LOW, P.HIGH, P.HIGH),
        (P.HIGH, P.URGENT, P.URGENT),
        (P.URGENT, P.NORMAL, None),  # a lesser repeat only links
        (P.NORMAL, P.NORMAL, None),
        (P.URGENT, P.URGENT, None),
        ("normal", "urgent", P.URGENT),  # as stored / as drafted
    ],
)
def test_only_a_higher_priority_raises_the_open_ticket(
    open_ticket: P | str, contact: P | str, raised: P | None
) -> None:
    assert raised_priority(open_ticket, contact) is raised


instants = st.integers(0, 10 * 24 * 3600).map(lambda s: T0 + dt.timedelta(seconds=s))
plans = st.tuples(instants, instants).map(lambda ab: ClockPlan(min(ab), max(ab)))


@settings(max_examples=200, derandomize=True)
@given(current=st.none() | plans, raised=plans)
def test_a_raise_never_postpones_a_warning_or_a_deadline(
    current: ClockPlan | None, raised: ClockPlan
) -> None:
    plan = tightened(current, raised)
    assert plan.warn_at <= plan.due_at
    assert (plan.warn_at, plan.due_at) <= (raised.warn_at, raised.due_at)
    if current is None:
        assert plan == raised
    else:
        assert plan.warn_at <= current.warn_at
        assert plan.due_at <= current.due_at


def test_a_clock_already_past_its_deadline_keeps_it() -> None:
    breached = ClockPlan(T0 - dt.timedelta(hours=2), T0 - dt.timedelta(hours=1))
    urgent = ClockPlan(T0 + dt.timedelta(minutes=12), T0 + dt.timedelta(minutes=15))
    assert tightened(breached, urgent) == breached
    running = ClockPlan(T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=2))
    assert tightened(running, urgent) == urgent
