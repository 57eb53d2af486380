"""Buckets in the center's time zone, including a zone with daylight saving time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from reports.intervals import (
    Interval,
    ReportRange,
    bucket_of,
    buckets,
    offset_segments,
    split_stretch,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)


def test_bucket_is_the_local_interval_start() -> None:
    at = utc(2026, 1, 31, 16, 7, 59)  # 2026-02-01 00:07:59 in Shanghai
    assert bucket_of(at, Interval.MIN15, SHANGHAI) == dt.datetime(2026, 2, 1, 0, 0)
    assert bucket_of(at, Interval.HOUR, SHANGHAI) == dt.datetime(2026, 2, 1, 0, 0)
    assert bucket_of(at, Interval.DAY, SHANGHAI) == dt.datetime(2026, 2, 1)
    assert bucket_of(at, Interval.MONTH, SHANGHAI) == dt.datetime(2026, 2, 1)
    assert bucket_of(utc(2026, 1, 31, 16, 44), Interval.MIN15, SHANGHAI) == dt.datetime(
        2026, 2, 1, 0, 30
    )


def test_range_boundaries_are_local_midnights() -> None:
    rng = ReportRange(dt.date(2026, 1, 1), dt.date(2026, 1, 31), "Asia/Shanghai")
    assert rng.start_utc == utc(2025, 12, 31, 16)
    assert rng.end_utc == utc(2026, 1, 31, 16)
    assert len(buckets(rng, Interval.DAY)) == 31
    assert len(buckets(rng, Interval.HOUR)) == 31 * 24
    assert buckets(rng, Interval.MONTH) == [dt.datetime(2026, 1, 1)]


def test_offset_segments_follow_daylight_saving() -> None:
    rng = ReportRange(dt.date(2026, 3, 1), dt.date(2026, 11, 30), "Europe/Berlin")
    segments = offset_segments(rng.start_utc, rng.end_utc, BERLIN)
    assert segments == [
        (rng.start_utc, 3600),
        (utc(2026, 3, 29, 1), 7200),
        (utc(2026, 10, 25, 1), 3600),
    ]
    assert offset_segments(utc(2026, 1, 1), utc(2027, 1, 1), SHANGHAI) == [(utc(2026, 1, 1), 28800)]


def test_a_stretch_is_split_at_bucket_boundaries() -> None:
    start, end = utc(2026, 3, 2, 1, 50), utc(2026, 3, 2, 3, 5)  # 09:50 .. 11:05 local
    pieces = list(split_stretch(start, end, Interval.HOUR, SHANGHAI))
    assert pieces == [
        (dt.datetime(2026, 3, 2, 9), 600.0),
        (dt.datetime(2026, 3, 2, 10), 3600.0),
        (dt.datetime(2026, 3, 2, 11), 300.0),
    ]
    assert sum(s for _, s in split_stretch(start, end, Interval.MIN15, SHANGHAI)) == 4500.0
