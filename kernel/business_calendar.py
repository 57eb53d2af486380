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

Edits made in the administration page (admin/calendar.py, tables calendar_days and
calendar_weeks) are merged over the config (`CalendarOverrides`): a date's row wins over
config's holidays and extra working days, and weekly hours from a `valid_from` date on
replace config's `weekly` from that date. `LiveCalendar` is what a long-running
component holds (the IVR's "is the center open now", ivr/directory.py): each `current()`
asks the database for the edits' version (one aggregate query) and rebuilds the calendar
only when it changed, so an edit is effective at the next call, without a restart, in
every process.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.config.center import WEEKDAYS, BusinessHours, TimeRange

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


Weekly = dict[str, list[TimeRange]]


@dataclass(frozen=True)
class CalendarOverrides:
    """The administration page's edits. `days`: a date -> None (a holiday: closed) or its
    ranges ([] = the normal workday's hours). `weeks`: (valid_from, weekly hours) in order."""

    days: Mapping[dt.date, Sequence[TimeRange] | None] = field(default_factory=dict)
    weeks: Sequence[tuple[dt.date, Weekly]] = ()


def _sorted_week(weekly: Mapping[Any, Sequence[TimeRange]]) -> Weekly:
    return {day: sorted(weekly.get(day, []), key=lambda r: r.start) for day in WEEKDAYS}


def _workday(weekly: Weekly) -> list[TimeRange]:
    workday = next((weekly[d] for d in WEEKDAYS[:5] if weekly[d]), None)
    return workday or next((r for r in weekly.values() if r), [])


class BusinessCalendar:
    def __init__(
        self, hours: BusinessHours, timezone: str, overrides: CalendarOverrides | None = None
    ) -> None:
        self._zone = zoneinfo.ZoneInfo(timezone)
        self._weekly = _sorted_week(hours.weekly)
        self._holidays = frozenset(hours.holidays)
        self._extra = frozenset(hours.extra_working_days)
        self._workday = _workday(self._weekly)
        overrides = overrides or CalendarOverrides()
        self._days = {
            day: None if ranges is None else sorted(ranges, key=lambda r: r.start)
            for day, ranges in overrides.days.items()
        }
        self._weeks = sorted(
            ((start, _sorted_week(weekly)) for start, weekly in overrides.weeks),
            key=lambda w: w[0],
            reverse=True,
        )

    def _week_of(self, day: dt.date) -> Weekly:
        return next((weekly for start, weekly in self._weeks if start <= day), self._weekly)

    def day_ranges(self, day: dt.date) -> list[TimeRange]:
        """The local day's opening ranges (local times); [] when closed."""
        weekly = self._week_of(day)
        if day in self._days:
            ranges = self._days[day]
            if ranges is None:
                return []
            return list(ranges) or _workday(weekly)
        if day in self._holidays:
            return []
        return _workday(weekly) if day in self._extra else weekly[WEEKDAYS[day.weekday()]]

    def is_holiday(self, day: dt.date) -> bool:
        """Closed all day by a holiday (config or the administration page)."""
        if day in self._days:
            return self._days[day] is None
        return day in self._holidays

    def open_intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The local day's opening ranges as aware UTC intervals, in order."""
        ranges = self.day_ranges(day)
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


# Contract with admin/calendar.py, which writes these tables (db/models/calendar.py).
_DAYS = sa.table(
    "calendar_days",
    sa.column("day", sa.Date),
    sa.column("kind", sa.String),
    sa.column("ranges", sa.JSON),
    sa.column("updated_at"),
)
_WEEKS = sa.table(
    "calendar_weeks",
    sa.column("valid_from", sa.Date),
    sa.column("weekly", sa.JSON),
    sa.column("updated_at"),
)


def ranges_of(raw: Any) -> list[TimeRange]:
    """[["08:00", "12:00"], ...] (as stored) -> TimeRanges."""
    return [TimeRange(start=dt.time.fromisoformat(a), end=dt.time.fromisoformat(b)) for a, b in raw]


def overrides_of(days: Sequence[Any], weeks: Sequence[Any]) -> CalendarOverrides:
    """Rows (day, kind, ranges) and (valid_from, weekly) -> CalendarOverrides."""
    return CalendarOverrides(
        days={
            _date(day): None if kind == "holiday" else ranges_of(ranges or [])
            for day, kind, ranges in days
        },
        weeks=[
            (_date(start), {d: ranges_of((weekly or {}).get(d, [])) for d in WEEKDAYS})
            for start, weekly in weeks
        ],
    )


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


async def load_overrides(engine: AsyncEngine) -> CalendarOverrides:
    async with engine.connect() as conn:
        days = (await conn.execute(sa.select(_DAYS.c.day, _DAYS.c.kind, _DAYS.c.ranges))).all()
        weeks = (await conn.execute(sa.select(_WEEKS.c.valid_from, _WEEKS.c.weekly))).all()
    return overrides_of(days, weeks)


async def overrides_version(engine: AsyncEngine) -> tuple[Any, ...]:
    """Changes whenever a row is added, edited or removed (counts and last edit times)."""
    stmt = sa.select(
        sa.select(sa.func.count()).select_from(_DAYS).scalar_subquery(),
        sa.select(sa.func.max(_DAYS.c.updated_at)).scalar_subquery(),
        sa.select(sa.func.count()).select_from(_WEEKS).scalar_subquery(),
        sa.select(sa.func.max(_WEEKS.c.updated_at)).scalar_subquery(),
    )
    async with engine.connect() as conn:
        row = (await conn.execute(stmt)).one()
    return tuple(str(v) for v in row)


class LiveCalendar:
    """The business calendar with the administration page's edits, kept current: each
    `current()` costs one small aggregate query and rebuilds only after an edit."""

    def __init__(self, hours: BusinessHours, timezone: str, engine: AsyncEngine) -> None:
        self._hours, self._timezone, self._engine = hours, timezone, engine
        self._version: tuple[Any, ...] | None = None
        self._calendar = BusinessCalendar(hours, timezone)

    async def current(self) -> BusinessCalendar:
        version = await overrides_version(self._engine)
        if version != self._version:
            overrides = await load_overrides(self._engine)
            self._calendar = BusinessCalendar(self._hours, self._timezone, overrides)
            self._version = version
        return self._calendar
