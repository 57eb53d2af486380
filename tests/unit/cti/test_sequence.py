"""Event seqs keep a call's order across bridge sessions (restarts, failovers)."""

from __future__ import annotations

import pytest

from cti.sequence import MAX_SAFE, SPAN, compose, generation_at, generation_of, next_generation
from cti.tracking.tracker import CallTracker
from tests.unit.cti.scenario import T0, run


def test_given_a_later_session_then_every_seq_is_above_the_earlier_session_s() -> None:
    first = next_generation(0, T0)
    second = next_generation(first, T0 + 1)
    assert compose(second, 1) > compose(first, SPAN - 1)
    assert generation_of(compose(second, 7)) == second


def test_given_two_sessions_in_one_tick_or_a_clock_stepped_back_then_still_increasing() -> None:
    first = next_generation(0, T0)
    assert next_generation(first, T0) == first + 1
    assert next_generation(first, T0 - 3600) == first + 1


def test_seqs_stay_exact_in_json_for_decades_and_refuse_past_that() -> None:
    in_2100 = 4_102_444_800.0
    assert compose(generation_at(in_2100), SPAN - 1) <= MAX_SAFE
    with pytest.raises(OverflowError):
        compose(generation_at(in_2100 * 2), 1)


def test_given_a_restart_then_the_new_tracker_numbers_a_spanning_call_above_the_old_one() -> None:
    old = CallTracker()
    old.begin_session(T0)
    _, before = run("0 Newchannel c1 c1 CallerIDNum=1\n1 QueueCallerJoin c1 c1 Queue=hold-x", old)
    new = CallTracker()
    new.begin_session(T0 + 5)
    _, after = run("0 Newchannel c1 c1 CallerIDNum=1", new)
    assert min(e["seq"] for e in after) > max(e["seq"] for e in before)
