"""The business calendar with the administration page's edits merged over config
(kernel/business_calendar.py CalendarOverrides)."""

from __future__ import annotations

import datetime as dt

from kernel.business_calendar import BusinessCalendar, CalendarOverrides, overrides_of, ranges_of
from kernel.config.center import BusinessHours, TimeRange

HOURS = BusinessHours.model_validate(
    {
        "weekly": {
            d: [{"start": "08:00", "end": "20:00"}] for d in ("mon", "tue", "wed", "thu", "fri")
        }
        | {"sat": [{"start": "09:00", "end": "17:00"}]},
        "holidays": ["2027-01-01"],
        "extra_working_days": ["2027-02-06"],
    }
)
ZONE = "Asia/Shanghai"


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text + "+08:00")


def test_given_no_edits_then_config_rules() -> None:
    cal = BusinessCalendar(HOURS, ZONE)
    assert not cal.is_open(at("2027-01-01T10:00"))  # config holiday
    assert cal.is_open(at("2027-02-06T19:00"))  # extra working day (a Saturday), 08-20
    assert cal.is_open(at("2027-01-04T10:00"))  # a Monday


def test_given_a_day_edit_then_it_wins_over_config() -> None:
    edits = overrides_of(
        [
            ("2027-01-01", "working_day", []),  # config's holiday now worked
            ("2027-01-04", "holiday", []),  # a Monday closed
            ("2027-01-05", "working_day", [["09:00", "12:00"]]),  # short hours
        ],
        [],
    )
    cal = BusinessCalendar(HOURS, ZONE, edits)
    assert cal.is_open(at("2027-01-01T10:00"))
    assert not cal.is_open(at("2027-01-04T10:00"))
    assert cal.is_holiday(dt.date(2027, 1, 4))
    assert cal.is_open(at("2027-01-05T11:59"))
    assert not cal.is_open(at("2027-01-05T12:00"))


def test_given_weekly_hours_from_a_date_then_they_apply_from_that_date_on() -> None:
    weekly = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    cal = BusinessCalendar(HOURS, ZONE, overrides_of([], [("2027-03-01", weekly)]))
    assert cal.is_open(at("2027-02-26T19:00"))  # a Friday before: config's 08-20
    assert not cal.is_open(at("2027-03-01T19:00"))  # the Monday it starts: 09-18
    assert not cal.is_open(at("2027-03-06T10:00"))  # Saturdays closed in the new hours
    assert cal.day_ranges(dt.date(2027, 3, 2)) == ranges_of([["09:00", "18:00"]])


def test_given_an_adjusted_working_day_without_hours_then_the_weeks_workday_applies() -> None:
    weekly = {d: [["09:00", "18:00"]] for d in ("mon", "tue")}
    edits = CalendarOverrides(
        days={dt.date(2027, 3, 7): []}, weeks=[(dt.date(2027, 3, 1), ranges_week(weekly))]
    )
    cal = BusinessCalendar(HOURS, ZONE, edits)
    assert cal.day_ranges(dt.date(2027, 3, 7)) == ranges_of([["09:00", "18:00"]])


def ranges_week(weekly: dict[str, list[list[str]]]) -> dict[str, list[TimeRange]]:
    return {d: ranges_of(r) for d, r in weekly.items()}


def test_given_edits_then_business_hours_arithmetic_follows_them() -> None:
    edits = overrides_of([("2027-01-05", "holiday", [])], [])
    cal = BusinessCalendar(HOURS, ZONE, edits)
    # Monday 19:00 + 2 business hours: Tuesday is now a holiday, so Wednesday 09:00
    due = cal.add_business_hours(at("2027-01-04T19:00"), 2)
    assert due == at("2027-01-06T09:00")
