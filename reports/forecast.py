"""Next week's calls and handle time per interval, from the last weeks' history. Pure.

Method (documented in reports/README.md):
- The history is the `weeks` whole weeks before the forecast week: every local day of it
  counts, with zero calls where none came (an empty Tuesday pulls the mean down).
- A forecast day's interval = the mean, over the history days of the same weekday, of
  that interval's offered calls. History days that were holidays or adjusted working days
  (business calendar) are left out of the weekday means: they are not typical days.
- AHT of an interval = handle seconds ÷ answered calls of the same weekday and interval
  over the history; with no answered call there, the queue's AHT over the whole history;
  with none at all, the configured default.
- An adjusted working day (a worked Saturday) in the forecast week takes the mean of the
  Monday..Friday profiles.
- A holiday in the forecast week: rule "closed" gives no calls (the center is closed;
  `always_open` queues such as gas emergencies keep their weekday forecast); rule
  "history" takes the mean of the history's holidays (the weekday's profile if the
  history has none).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

HolidayRule = Literal["closed", "history"]
Basis = Literal["weekday", "workday", "holiday_closed", "holiday_history"]


@dataclass(frozen=True, slots=True)
class SlotHistory:
    """One local day's interval of one queue: what happened."""

    day: dt.date
    slot: int  # interval index within the local day (0 = from midnight)
    offered: int
    answered: int = 0
    handle_seconds: float = 0.0  # talk + hold + wrap of the answered calls


@dataclass(frozen=True, slots=True)
class Calendar:
    holidays: frozenset[dt.date] = frozenset()
    extra_working_days: frozenset[dt.date] = frozenset()

    def typical(self, day: dt.date) -> bool:
        return day not in self.holidays and day not in self.extra_working_days


@dataclass(frozen=True, slots=True)
class SlotForecast:
    day: dt.date
    slot: int
    calls: float
    aht_seconds: float
    basis: Basis


def history_days(week_start: dt.date, weeks: int) -> list[dt.date]:
    first = week_start - dt.timedelta(weeks=weeks)
    return [first + dt.timedelta(days=i) for i in range(7 * weeks)]


def forecast_week(
    history: Iterable[SlotHistory],
    week_start: dt.date,
    *,
    weeks: int,
    slots_per_day: int,
    calendar: Calendar,
    default_aht_seconds: float,
    holiday_rule: HolidayRule = "closed",
    always_open: bool = False,
) -> list[SlotForecast]:
    """Every interval of the 7 days from `week_start`, in order. History rows outside
    the window [week_start - weeks, week_start) are ignored."""
    if weeks < 1 or slots_per_day < 1:
        raise ValueError("weeks and slots_per_day must be positive")
    days = history_days(week_start, weeks)
    window = set(days)
    offered: dict[tuple[dt.date, int], int] = defaultdict(int)
    answered: dict[tuple[int, int], int] = defaultdict(int)  # (weekday, slot)
    handle: dict[tuple[int, int], float] = defaultdict(float)
    all_answered, all_handle = 0, 0.0
    for h in history:
        if h.day not in window or not 0 <= h.slot < slots_per_day:
            continue
        offered[(h.day, h.slot)] += h.offered
        all_answered += h.answered
        all_handle += h.handle_seconds
        if calendar.typical(h.day):
            answered[(h.day.weekday(), h.slot)] += h.answered
            handle[(h.day.weekday(), h.slot)] += h.handle_seconds
    queue_aht = all_handle / all_answered if all_answered else default_aht_seconds

    by_weekday: dict[int, list[dt.date]] = defaultdict(list)
    for d in days:
        if calendar.typical(d):
            by_weekday[d.weekday()].append(d)
    past_holidays = [d for d in days if d in calendar.holidays]

    def mean(group: list[dt.date], slot: int) -> float:
        return sum(offered[(d, slot)] for d in group) / len(group) if group else 0.0

    def aht(weekdays: Iterable[int], slot: int) -> float:
        n = sum(answered[(w, slot)] for w in weekdays)
        return sum(handle[(w, slot)] for w in weekdays) / n if n else queue_aht

    out: list[SlotForecast] = []
    workdays = [d for w in range(5) for d in by_weekday[w]]
    for i in range(7):
        day = week_start + dt.timedelta(days=i)
        weekday = day.weekday()
        for slot in range(slots_per_day):
            if day in calendar.holidays and not always_open:
                if holiday_rule == "closed":
                    out.append(SlotForecast(day, slot, 0.0, queue_aht, "holiday_closed"))
                    continue
                if past_holidays:
                    calls = mean(past_holidays, slot)
                    out.append(
                        SlotForecast(day, slot, calls, aht(range(7), slot), "holiday_history")
                    )
                    continue
            if day in calendar.extra_working_days:
                out.append(
                    SlotForecast(day, slot, mean(workdays, slot), aht(range(5), slot), "workday")
                )
                continue
            out.append(
                SlotForecast(
                    day, slot, mean(by_weekday[weekday], slot), aht([weekday], slot), "weekday"
                )
            )
    return out
