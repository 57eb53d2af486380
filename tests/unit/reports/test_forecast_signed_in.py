"""reports/staffing_sql.spread_seconds: agents' logged-in stretches spread over the
local intervals of the staffing forecast (pure part)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from reports.intervals import ReportRange
from reports.staffing_sql import spread_seconds

ZONE = ZoneInfo("Asia/Shanghai")
RANGE = ReportRange(dt.date(2026, 3, 2), dt.date(2026, 3, 3), "Asia/Shanghai")
DAY = dt.date(2026, 3, 2)


def epoch(day: dt.date, hour: int, minute: int = 0) -> float:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).timestamp()


NOW = dt.datetime(2026, 3, 3, 12, 0, tzinfo=ZONE)


def test_a_stretch_is_cut_at_the_interval_edges_in_local_time() -> None:
    got = spread_seconds([(epoch(DAY, 9, 10), epoch(DAY, 10, 5))], RANGE, 30, NOW)
    assert got == {(DAY, 18): 20 * 60, (DAY, 19): 30 * 60, (DAY, 20): 5 * 60}


def test_open_stretches_count_until_now_and_the_range_clips() -> None:
    before = epoch(DAY, 0) - 3600  # an hour before the range
    got = spread_seconds(
        [(before, epoch(DAY, 0, 30)), (epoch(dt.date(2026, 3, 3), 11, 15), None)],
        RANGE,
        60,
        NOW,
    )
    assert got == {(DAY, 0): 30 * 60, (dt.date(2026, 3, 3), 11): 45 * 60}


def test_daylight_saving_zones_use_local_wall_clock() -> None:
    paris = ReportRange(dt.date(2026, 3, 29), dt.date(2026, 3, 29), "Europe/Paris")
    start = dt.datetime(2026, 3, 29, 9, 0, tzinfo=ZoneInfo("Europe/Paris")).timestamp()
    got = spread_seconds([(start, start + 1800)], paris, 30, NOW)
    assert got == {(dt.date(2026, 3, 29), 18): pytest.approx(1800)}
