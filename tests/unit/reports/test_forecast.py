"""reports/forecast.py over a fake history: weekday means with empty days counted,
AHT per interval, holidays and adjusted working days of the business calendar."""

from __future__ import annotations

import datetime as dt

import pytest

from reports.forecast import (
    Calendar,
    HolidayRule,
    SlotForecast,
    SlotHistory,
    forecast_week,
    history_days,
)

WEEK = dt.date(2026, 9, 28)  # Monday; 1 and 2 October are holidays
MON1, MON2, MON3 = (WEEK - dt.timedelta(weeks=n) for n in (3, 2, 1))


def run(
    history: list[SlotHistory],
    *,
    calendar: Calendar | None = None,
    holiday_rule: HolidayRule = "closed",
    always_open: bool = False,
) -> dict[tuple[dt.date, int], SlotForecast]:
    out = forecast_week(
        history,
        WEEK,
        weeks=3,
        slots_per_day=48,
        calendar=calendar or Calendar(),
        default_aht_seconds=200.0,
        holiday_rule=holiday_rule,
        always_open=always_open,
    )
    assert len(out) == 7 * 48
    return {(f.day, f.slot): f for f in out}


def test_history_window_is_the_weeks_before() -> None:
    days = history_days(WEEK, 3)
    assert (days[0], days[-1], len(days)) == (MON1, WEEK - dt.timedelta(days=1), 21)


def test_mean_of_the_same_weekday_and_interval_with_empty_days_counted() -> None:
    history = [
        SlotHistory(MON1, 18, 30, 30, 30 * 180.0),
        SlotHistory(MON2, 18, 60, 50, 50 * 240.0),
        # MON3 had no call at 09:00: it counts as 0.
        SlotHistory(MON3 + dt.timedelta(days=1), 18, 9, 9, 9 * 100.0),  # a Tuesday
        SlotHistory(WEEK - dt.timedelta(weeks=5), 18, 999, 999, 0.0),  # outside the window
    ]
    got = run(history)
    nine = got[(WEEK, 18)]
    assert nine.calls == pytest.approx(30.0)  # (30 + 60 + 0) / 3
    assert nine.aht_seconds == pytest.approx((30 * 180 + 50 * 240) / 80)
    assert nine.basis == "weekday"
    assert got[(WEEK + dt.timedelta(days=1), 18)].calls == pytest.approx(3.0)
    # No answered call at 10:00 on Mondays: the queue's AHT over the whole history.
    ten = got[(WEEK, 20)]
    assert ten.calls == 0
    assert ten.aht_seconds == pytest.approx((30 * 180 + 50 * 240 + 9 * 100) / 89)


def test_without_history_the_default_aht() -> None:
    got = run([])
    assert got[(WEEK, 0)].calls == 0
    assert got[(WEEK, 0)].aht_seconds == 200.0


def test_holidays_closed_or_from_past_holidays() -> None:
    past_holiday = MON2 + dt.timedelta(days=2)  # a Wednesday
    calendar = Calendar(holidays=frozenset({dt.date(2026, 10, 1), past_holiday}))
    thursdays = [WEEK + dt.timedelta(days=3) - dt.timedelta(weeks=n) for n in (1, 2, 3)]
    history = [SlotHistory(d, 20, 12, 12, 12 * 150.0) for d in thursdays]
    history.append(SlotHistory(past_holiday, 20, 2, 2, 2 * 150.0))
    holiday = (dt.date(2026, 10, 1), 20)

    closed = run(history, calendar=calendar)
    assert (closed[holiday].calls, closed[holiday].basis) == (0.0, "holiday_closed")
    # Always-open queues (gas emergencies) keep the weekday forecast.
    emergency = run(history, calendar=calendar, always_open=True)
    assert (emergency[holiday].calls, emergency[holiday].basis) == (12.0, "weekday")
    # Rule "history": the mean of the holidays in the window.
    by_history = run(history, calendar=calendar, holiday_rule="history")
    assert (by_history[holiday].calls, by_history[holiday].basis) == (2.0, "holiday_history")
    # The past holiday is left out of the Wednesday mean: (0 + 0) / 2, not / 3.
    wednesday = WEEK + dt.timedelta(days=2)
    assert closed[(wednesday, 20)].calls == 0
    history.append(SlotHistory(MON1 + dt.timedelta(days=2), 20, 8, 8, 8 * 150.0))
    assert run(history, calendar=calendar)[(wednesday, 20)].calls == pytest.approx(4.0)


def test_a_rule_history_without_past_holidays_falls_back_to_the_weekday() -> None:
    calendar = Calendar(holidays=frozenset({dt.date(2026, 10, 1)}))
    history = [SlotHistory(dt.date(2026, 9, 24), 20, 6, 6, 600.0)]
    got = run(history, calendar=calendar, holiday_rule="history")
    assert got[(dt.date(2026, 10, 1), 20)].calls == pytest.approx(2.0)


def test_an_adjusted_working_day_takes_the_workday_profile() -> None:
    saturday = WEEK + dt.timedelta(days=5)
    worked_sunday = MON3 - dt.timedelta(days=1)  # in the history: left out of Sundays
    calendar = Calendar(extra_working_days=frozenset({saturday, worked_sunday}))
    history = [
        SlotHistory(MON1 + dt.timedelta(days=i), 18, 15, 15, 15 * 100.0)
        for i in range(5)  # Monday..Friday of one week
    ]
    history.append(SlotHistory(worked_sunday, 18, 40, 40, 4000.0))
    history.append(SlotHistory(MON2 - dt.timedelta(days=1), 18, 4, 4, 400.0))  # a plain Sunday
    got = run(history, calendar=calendar)
    assert got[(saturday, 18)].basis == "workday"
    assert got[(saturday, 18)].calls == pytest.approx(5.0)  # 15 × 5 days / 15 workdays
    # Sundays of the window: 4 calls, the worked one (left out), 0 calls.
    assert got[(WEEK + dt.timedelta(days=6), 18)].calls == pytest.approx(2.0)  # (4 + 0) / 2


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="positive"):
        forecast_week(
            [], WEEK, weeks=0, slots_per_day=48, calendar=Calendar(), default_aht_seconds=1
        )
