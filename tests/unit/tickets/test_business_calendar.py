"""Business-hour arithmetic with the shipped calendar (Asia/Shanghai; weekdays 08-20,
Saturdays 09-17, Sundays closed; holidays 2026-10-01/02/05; extra working days
2026-02-14 (Sat) and 2026-09-27 (Sun))."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.business_calendar import AlwaysOpen, BusinessCalendar, make_calendar
from kernel.config import load_settings

ROOT = Path(__file__).resolve().parents[3]
SETTINGS = load_settings(ROOT / "config.yaml", env={})
CAL = BusinessCalendar(SETTINGS.business_hours, SETTINGS.center.timezone)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # Inside one day.
        ("2026-11-18 09:00", 4, "2026-11-18 13:00"),
        # Friday evening across Saturday's short day and a closed Sunday.
        ("2026-11-20 18:00", 8, "2026-11-21 15:00"),
        ("2026-11-20 18:00", 16, "2026-11-23 14:00"),
        # Ends exactly at closing time: due at closing, not next morning.
        ("2026-11-18 16:00", 4, "2026-11-18 20:00"),
        # Starts while closed (Sunday night): the clock starts at Monday's opening.
        ("2026-11-22 03:00", 1, "2026-11-23 09:00"),
        # Saturday afternoon, closed Sunday, holiday Monday 10-05: due Tuesday.
        ("2026-10-03 16:00", 4, "2026-10-06 11:00"),
        # Wednesday evening, then two holidays (Thu 10-01, Fri 10-02), open Saturday.
        ("2026-09-30 19:00", 4, "2026-10-03 12:00"),
        # Sunday 09-27 is a working day with weekday hours (08-20).
        ("2026-09-26 16:00", 4, "2026-09-27 11:00"),
        # Saturday 02-14 is a working day with weekday hours (08:00, not 09:00).
        ("2026-02-13 19:00", 2, "2026-02-14 09:00"),
        # Zero hours: now.
        ("2026-11-22 03:00", 0, "2026-11-22 03:00"),
    ],
)
def test_add_business_hours(start: str, hours: float, due: str) -> None:
    assert CAL.add_business_hours(local(start), hours) == local(due)
    if hours:
        assert CAL.business_seconds_between(local(start), local(due)) == hours * 3600


def test_result_is_utc_and_input_must_be_aware() -> None:
    due = CAL.add_business_hours(local("2026-11-18 09:00"), 1)
    assert due.tzinfo == dt.UTC
    assert due == dt.datetime(2026, 11, 18, 2, 0, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="naive"):
        CAL.add_business_hours(dt.datetime(2026, 11, 18, 9), 1)


def test_seconds_between_counts_only_opening_time() -> None:
    # Friday 19:00 to Tuesday 09:00 around the National Day holiday: Fri 1 h is a holiday
    # (10-02) so 0, Sat 10-03 8 h, Sun 0, Mon 10-05 holiday 0, Tue 1 h.
    assert (
        CAL.business_seconds_between(local("2026-10-02 19:00"), local("2026-10-06 09:00"))
        == 9 * 3600
    )
    assert CAL.business_seconds_between(local("2026-10-06 09:00"), local("2026-10-02 19:00")) == 0


def test_is_open() -> None:
    assert CAL.is_open(local("2026-11-18 08:00"))
    assert not CAL.is_open(local("2026-11-18 20:00"))
    assert not CAL.is_open(local("2026-10-01 10:00"))  # holiday
    assert CAL.is_open(local("2026-09-27 08:30"))  # extra working Sunday


def test_24x7_counts_wall_clock_hours() -> None:
    cal = make_calendar("24x7", SETTINGS.business_hours, SETTINGS.center.timezone)
    assert isinstance(cal, AlwaysOpen)
    assert cal.add_business_hours(local("2026-10-01 23:30"), 2) == local("2026-10-02 01:30")
    assert (
        cal.business_seconds_between(local("2026-10-01 23:30"), local("2026-10-02 01:30")) == 7200
    )


def test_a_calendar_that_never_opens_is_refused() -> None:
    from kernel.config.center import BusinessHours

    closed = BusinessCalendar(BusinessHours(weekly={}), "Asia/Shanghai")
    with pytest.raises(ValueError, match="never open"):
        closed.add_business_hours(local("2026-11-18 09:00"), 1)


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(
        min_value=dt.datetime(2026, 1, 1),
        max_value=dt.datetime(2026, 12, 31),
        timezones=st.just(dt.UTC),
    ),
    minutes=st.integers(min_value=0, max_value=60 * 120),
)
def test_adding_then_measuring_gives_the_same_duration(start: dt.datetime, minutes: int) -> None:
    due = CAL.add_business_hours(start, minutes / 60)
    assert due >= start
    assert abs(CAL.business_seconds_between(start, due) - minutes * 60) < 1e-3
    if minutes:
        assert CAL.is_open(due - dt.timedelta(seconds=1))


def test_next_open() -> None:
    assert CAL.next_open(local("2026-11-18 10:00")) == local("2026-11-18 10:00")
    assert CAL.next_open(local("2026-11-21 18:00")) == local("2026-11-23 08:00")  # Sat evening
    assert CAL.next_open(local("2026-09-30 21:00")) == local("2026-10-03 09:00")  # holidays
