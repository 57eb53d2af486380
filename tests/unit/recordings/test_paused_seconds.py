"""How long a recording was paused (recordings/history.py): each pause until the resume
or stop after it, or until the end when it was never resumed."""

from __future__ import annotations

import datetime as dt

from recordings.history import ControlStep, paused_seconds

T0 = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)


def at(seconds: float, action: str) -> ControlStep:
    return ControlStep(T0 + dt.timedelta(seconds=seconds), action, "agent01")


def test_given_pauses_then_each_counts_until_its_resume_or_stop() -> None:
    steps = [at(0, "start"), at(10, "pause"), at(25, "resume"), at(40, "pause"), at(45, "stop")]
    assert paused_seconds(steps, T0 + dt.timedelta(seconds=60)) == 20.0


def test_given_a_pause_never_resumed_then_it_counts_until_the_end() -> None:
    steps = [at(0, "start"), at(30, "pause")]
    assert paused_seconds(steps, T0 + dt.timedelta(seconds=50)) == 20.0


def test_given_a_second_pause_while_paused_then_it_does_not_count_twice() -> None:
    steps = [at(10, "pause"), at(12, "pause"), at(20, "resume")]
    assert paused_seconds(steps, T0 + dt.timedelta(seconds=60)) == 10.0


def test_given_no_pause_then_zero() -> None:
    assert paused_seconds([at(0, "start"), at(9, "stop")], T0) == 0.0
