"""Measurements that features keep cheaply on their hot paths (one call, no allocation
per observation) and the operations endpoint reads at scrape time (ops/metrics.py turns
them into Prometheus metrics). Here, not in ops/, so that any feature may keep one
without depending on the exporter."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left

# Seconds: from sub-millisecond decisions to a bus stalled for seconds.
BUCKETS: tuple[float, ...] = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip


class Histogram:
    """Counts per bucket (an observation goes to the first bucket it fits), the sum and
    the count; cumulative counts are computed when read."""

    __slots__ = ("count", "counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)  # the last one: above every bucket
        self.count = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(BUCKETS, value)] += 1
        self.count += 1
        self.sum += value

    def observe_age(self, value: float | None) -> None:
        """observe, skipping a message without a time (one call at the measuring site)."""
        if value is not None:
            self.observe(value)

    def cumulative(self) -> list[tuple[str, int]]:
        """(upper bound, observations at or below it), ending with +Inf."""
        out, total = [], 0
        for bound, n in zip((*map(str, BUCKETS), "+Inf"), self.counts, strict=True):
            total += n
            out.append((bound, total))
        return out


def event_age(at: object, now: float) -> float | None:
    """Seconds since an event's "at" (epoch seconds or an ISO time), None if it has none."""
    if isinstance(at, int | float):
        return max(0.0, now - float(at))
    if isinstance(at, str):
        try:
            when = dt.datetime.fromisoformat(at)
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return max(0.0, now - when.timestamp())
    return None


def stream_entry_age(entry_id: str, now: float) -> float | None:
    """Seconds since Redis stored a stream entry: its id is "<milliseconds>-<sequence>"
    stamped by the Redis server at XADD (so the publish time, on Redis's clock)."""
    ms, _, _ = entry_id.partition("-")
    if not ms.isdigit():
        return None
    return max(0.0, now - int(ms) / 1000)
