"""Pacing: never more calls than the trunk's channels, never faster than the rate."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from campaigns.pacing import Pacer, campaign_room, free_channels


def test_given_the_trunk_full_then_no_channel_is_free() -> None:
    assert free_channels(10, 10) == 0
    assert free_channels(10, 12) == 0  # more in flight than configured (a config change)
    assert free_channels(10, 3) == 7


def test_given_a_campaign_limit_then_its_room_is_the_smaller_bound() -> None:
    assert campaign_room(7, 0, None) == 7
    assert campaign_room(7, 2, 4) == 2
    assert campaign_room(7, 5, 4) == 0
    assert campaign_room(1, 0, 4) == 1


def test_given_a_rate_of_two_then_two_dials_go_at_once_and_the_third_half_a_second_later() -> None:
    pacer = Pacer(2.0)
    assert pacer.take(100.0)
    assert pacer.take(100.0)
    assert not pacer.take(100.0)
    assert pacer.next_at(100.0) == 100.5
    assert pacer.take(100.5)


@given(
    rate=st.floats(min_value=0.1, max_value=50),
    steps=st.lists(st.floats(min_value=0, max_value=3), min_size=1, max_size=200),
)
def test_given_any_timeline_then_dials_never_exceed_the_rate_plus_one_burst(
    rate: float, steps: list[float]
) -> None:
    pacer = Pacer(rate)
    now, taken = 0.0, 0
    for step in steps:
        now += step
        while pacer.take(now):
            taken += 1
    assert taken <= rate * now + max(1.0, rate) + 1e-6


def test_given_how_a_call_ended_then_the_outcome_is_busy_no_answer_failed_or_hangup() -> None:
    from campaigns.outcomes import classify_end
    from db.models.campaigns import AttemptOutcome as O

    cases = {
        (False, "17"): O.BUSY,
        (False, "19"): O.NO_ANSWER,
        (False, "16"): O.NO_ANSWER,
        (False, None): O.NO_ANSWER,
        (False, "34"): O.FAILED,
        (False, "1"): O.FAILED,
        (True, "16"): O.HANGUP,
    }
    for (answered, cause), outcome in cases.items():
        assert classify_end(answered=answered, cause=cause) is outcome, (answered, cause)


def test_given_a_batch_then_it_takes_what_the_bucket_holds_and_gets_unused_dials_back() -> None:
    pacer = Pacer(5.0)
    assert pacer.take_up_to(100.0, 12) == 5  # a batch: at most one second of dials
    assert pacer.take_up_to(100.0, 3) == 0
    assert pacer.next_at(100.0) == 100.2
    pacer.give_back(2)  # two claims lost to another dialer
    assert pacer.take_up_to(100.0, 3) == 2
    pacer.give_back(50)  # never more than one burst back
    assert pacer.take_up_to(100.0, 50) == 5
    assert pacer.take_up_to(100.0, 0) == 0


@given(
    rate=st.floats(min_value=0.1, max_value=50),
    steps=st.lists(
        st.tuples(st.floats(min_value=0, max_value=3), st.integers(0, 60)), min_size=1, max_size=200
    ),
)
def test_given_any_batches_then_dials_never_exceed_the_rate_plus_one_burst(
    rate: float, steps: list[tuple[float, int]]
) -> None:
    pacer = Pacer(rate)
    now, taken = 0.0, 0
    for step, wanted in steps:
        now += step
        got = pacer.take_up_to(now, wanted)
        assert 0 <= got <= wanted
        taken += got
    assert taken <= rate * now + max(1.0, rate) + 1e-6
