"""Report intervals in the center's time zone. Pure.

A bucket is named by its local wall-clock start (a naive datetime, e.g. 2026-03-01 00:00
for that day in Asia/Shanghai); `aware()` attaches the zone for output. The database
groups by the same keys (reports/sql.py), computed from the UTC timestamps with the
zone's UTC offsets over the report range (`offset_segments`), so zones with daylight
saving time bucket correctly on SQLite too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo


class Interval(StrEnum):
    MIN15 = "15min"
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


# Fixed-size intervals in seconds (a month is not fixed).
FIXED_SECONDS: dict[Interval, int] = {
    Interval.MIN15: 900,
    Interval.HOUR: 3600,
    Interval.DAY: 86400,
}


@dataclass(frozen=True, slots=True)
class ReportRange:
    """Local days `first` .. `last` (inclusive) in `timezone`."""

    first: dt.date
    last: dt.date
    timezone: str

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"range ends ({self.last}) before it starts ({self.first})")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def start_utc(self) -> dt.datetime:
        return local_midnight(self.first, self.zone).astimezone(dt.UTC)

    @property
    def end_utc(self) -> dt.datetime:
        """Exclusive: the midnight after `last`."""
        return local_midnight(self.last + dt.timedelta(days=1), self.zone).astimezone(dt.UTC)


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=zone)


def bucket_of(at: dt.datetime, interval: Interval, zone: ZoneInfo) -> dt.datetime:
    """The naive local start of the bucket holding the instant `at`."""
    if at.tzinfo is None:
        raise ValueError("bucket_of needs an aware datetime")
    local = at.astimezone(zone).replace(tzinfo=None)
    if interval is Interval.MONTH:
        return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if interval is Interval.DAY:
        return local.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval is Interval.HOUR:
        return local.replace(minute=0, second=0, microsecond=0)
    return local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)


def next_bucket(start: dt.datetime, interval: Interval) -> dt.datetime:
    if interval is Interval.MONTH:
        year, month = divmod(start.month, 12)
        return start.replace(year=start.year + year, month=month + 1)
    return start + dt.timedelta(seconds=FIXED_SECONDS[interval])


def buckets(rng: ReportRange, interval: Interval) -> list[dt.datetime]:
    """Every bucket start of the range, in order (empty buckets included)."""
    first = dt.datetime(rng.first.year, rng.first.month, rng.first.day)
    if interval is Interval.MONTH:
        first = first.replace(day=1)
    end = dt.datetime(rng.last.year, rng.last.month, rng.last.day) + dt.timedelta(days=1)
    out: list[dt.datetime] = []
    cursor = first
    while cursor < end:
        out.append(cursor)
        cursor = next_bucket(cursor, interval)
    return out


def aware(bucket: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return bucket.replace(tzinfo=zone)


def to_utc(local: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return local.replace(tzinfo=zone).astimezone(dt.UTC)


def offset_segments(
    start: dt.datetime, end: dt.datetime, zone: ZoneInfo
) -> list[tuple[dt.datetime, int]]:
    """[(utc_from, offset_seconds), ...]: the zone's UTC offset from each instant on,
    covering [start, end). One entry for zones without DST (Asia/Shanghai)."""
    segments: list[tuple[dt.datetime, int]] = [(start, _offset(start, zone))]
    step = dt.timedelta(hours=1)
    cursor = start
    while cursor < end:
        nxt = min(cursor + dt.timedelta(days=1), end)
        if _offset(nxt, zone) != segments[-1][1]:
            # Find the hour it changed (transitions happen on the hour or half hour).
            probe = cursor
            while _offset(probe, zone) == segments[-1][1]:
                probe += step
            lo = probe - step
            while _offset(lo, zone) == segments[-1][1]:
                lo += dt.timedelta(minutes=15)
            segments.append((lo, _offset(lo, zone)))
        cursor = nxt
    return segments


def _offset(at: dt.datetime, zone: ZoneInfo) -> int:
    off = at.astimezone(zone).utcoffset()
    assert off is not None
    return int(off.total_seconds())


def split_stretch(
    start: dt.datetime, end: dt.datetime, interval: Interval, zone: ZoneInfo
) -> Iterator[tuple[dt.datetime, float]]:
    """(bucket, seconds) pieces of the aware stretch [start, end)."""
    cursor = start
    while cursor < end:
        bucket = bucket_of(cursor, interval, zone)
        boundary = to_utc(next_bucket(bucket, interval), zone)
        stop = min(boundary, end)
        if stop <= cursor:  # a wall-clock bucket skipped by a DST jump
            stop = min(cursor + dt.timedelta(minutes=15), end)
        yield bucket, (stop - cursor).total_seconds()
        cursor = stop
