"""Business-hour arithmetic: deadlines counted in opening hours, not wall-clock hours.

A ticket SLA of "8 business hours" raised on Friday at 18:00 (center open 08:00-20:00 on
weekdays, 09:00-17:00 on Saturdays) is due on Saturday at 15:00; across a holiday the
holiday counts for nothing. Everything happens in the center's time zone
(config `center.timezone`), inputs and outputs are aware datetimes (UTC out).

Rules (config `business_hours`):
- `weekly`: opening ranges per weekday; a weekday without ranges is closed.
- `holidays`: closed all day, whatever the weekday.
- `extra_working_days` (China's adjusted working days, usually a Saturday or Sunday):
  open with the hours of a normal working day, i.e. the ranges of the first of mon..fri
  that has any.
A category with `calendar: 24x7` uses `AlwaysOpen`: business hours are wall-clock hours.

The IVR's "is the center open now" (hotline/business_hours.py) reads the same config;
this module only adds and measures durations.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Literal, Protocol

from kernel.config.center import WEEKDAYS, BusinessHours

# Deadlines are searched at most this far ahead; a calendar that is never open (all
# weekdays empty) is a configuration error, not an endless loop.
MAX_DAYS = 800


class WorkCalendar(Protocol):
    def add_business_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The instant `hours` of opening time after `start`."""
        ...

    def business_seconds_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Opening time between two instants (0 if end <= start)."""
        ...

    def next_open(self, at: dt.datetime) -> dt.datetime:
        """`at` if open then, else the next opening instant."""
        ...


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: pass aware datetimes")
    return value


class AlwaysOpen:
    """24x7: a business hour is an hour."""

    def next_open(self, at: dt.datetime) -> dt.datetime:
        return _aware(at).astimezone(dt.UTC)

    def add_business_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        return _aware(start).astimezone(dt.UTC) + dt.timedelta(hours=hours)

    def business_seconds_between(self, start: dt.datetime, end: dt.datetime) -> float:
        return max(0.0, (_aware(end) - _aware(start)).total_seconds())


class BusinessCalendar:
    def __init__(self, hours: BusinessHours, timezone: str) -> None:
        self._zone = zoneinfo.ZoneInfo(timezone)
        self._weekly = {
            day: sorted(hours.weekly.get(day, []), key=lambda r: r.start) for day in WEEKDAYS
        }
        self._holidays = frozenset(hours.holidays)
        self._extra = frozenset(hours.extra_working_days)
        workday = next((self._weekly[d] for d in WEEKDAYS[:5] if self._weekly[d]), None)
        self._workday = workday or next((r for r in self._weekly.values() if r), [])

    def open_intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The local day's opening ranges as aware UTC intervals, in order."""
        if day in self._holidays:
            return []
        ranges = self._workday if day in self._extra else self._weekly[WEEKDAYS[day.weekday()]]
        out = []
        for r in ranges:
            start = dt.datetime.combine(day, r.start, tzinfo=self._zone).astimezone(dt.UTC)
            end = dt.datetime.combine(day, r.end, tzinfo=self._zone).astimezone(dt.UTC)
            out.append((start, end))
        return out

    def is_open(self, at: dt.datetime) -> bool:
        local_day = _aware(at).astimezone(self._zone).date()
        return any(s <= at < e for s, e in self.open_intervals(local_day))

    def next_open(self, at: dt.datetime) -> dt.datetime:
        """`at` if the center is open then, else its next opening instant."""
        at = _aware(at).astimezone(dt.UTC)
        for day in self._days_from(at):
            for opens, closes in self.open_intervals(day):
                if closes > at:
                    return max(opens, at)
        raise ValueError(f"business hours are never open within {MAX_DAYS} days")

    def _days_from(self, at: dt.datetime) -> list[dt.date]:
        first = at.astimezone(self._zone).date() - dt.timedelta(days=1)  # ranges near midnight
        return [first + dt.timedelta(days=i) for i in range(MAX_DAYS)]

    def add_business_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        if hours < 0:
            raise ValueError("hours must not be negative")
        start = _aware(start).astimezone(dt.UTC)
        left = dt.timedelta(hours=hours)
        if not left:
            return start
        for day in self._days_from(start):
            for opens, closes in self.open_intervals(day):
                if closes <= start:
                    continue
                begin = max(opens, start)
                span = closes - begin
                if left <= span:
                    return begin + left
                left -= span
        raise ValueError(f"business hours are never open within {MAX_DAYS} days")

    def business_seconds_between(self, start: dt.datetime, end: dt.datetime) -> float:
        start = _aware(start).astimezone(dt.UTC)
        end = _aware(end).astimezone(dt.UTC)
        if end <= start:
            return 0.0
        total = 0.0
        last_day = end.astimezone(self._zone).date()
        for day in self._days_from(start):
            if day > last_day:
                break
            for opens, closes in self.open_intervals(day):
                lo, hi = max(opens, start), min(closes, end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
        return total


def make_calendar(
    kind: Literal["business_hours", "24x7"], hours: BusinessHours, timezone: str
) -> WorkCalendar:
    if kind == "24x7":
        return AlwaysOpen()
    return BusinessCalendar(hours, timezone)
