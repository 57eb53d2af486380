"""Readiness (ops/health.py) and the measures behind the metrics (kernel/measures.py)."""

from __future__ import annotations

import datetime as dt

from kernel.measures import Histogram, event_age, stream_entry_age
from ops.health import Check, evaluate


def test_given_every_required_check_passing_then_ready_even_as_a_standby() -> None:
    ready, body = evaluate(
        [Check("database", True, "postgresql"), Check("leader", True, "standby", required=False)]
    )
    assert ready
    assert body["ready"] is True
    assert [c["name"] for c in body["checks"]] == ["database", "leader"]


def test_given_a_required_check_failing_then_not_ready_and_it_is_named() -> None:
    ready, body = evaluate(
        [Check("database", True, "sqlite"), Check("redis", False, "TimeoutError")]
    )
    assert not ready
    failing = [c for c in body["checks"] if not c["ok"]]
    assert failing == [{"name": "redis", "ok": False, "detail": "TimeoutError", "required": True}]


def test_given_observations_then_cumulative_buckets_end_with_the_count() -> None:
    h = Histogram()
    for value in (0.0003, 0.002, 0.002, 0.7, 30.0):
        h.observe(value)
    buckets = dict(h.cumulative())
    assert buckets["0.0005"] == 1
    assert buckets["0.0025"] == 3
    assert buckets["1.0"] == 4
    assert buckets["+Inf"] == h.count == 5
    assert round(h.sum, 4) == 30.7043


def test_given_event_times_as_epoch_or_iso_then_their_age() -> None:
    now = 1_800_000_010.0
    assert event_age(1_800_000_000.0, now) == 10.0
    iso = dt.datetime.fromtimestamp(1_800_000_004.5, dt.UTC).isoformat()
    assert event_age(iso, now) == 5.5
    assert event_age("not a time", now) is None
    assert event_age(None, now) is None
    assert event_age(now + 3, now) == 0.0  # clocks a little apart: never negative


def test_given_a_redis_stream_entry_id_then_its_age_from_redis_s_publish_time() -> None:
    now = 1_800_000_010.0
    assert stream_entry_age("1800000007500-3", now) == 2.5
    assert stream_entry_age("1800000012000-0", now) == 0.0  # Redis's clock a little ahead
    assert stream_entry_age("not-an-id", now) is None
    h = Histogram()
    h.observe_age(None)  # a message without a time is not counted
    h.observe_age(stream_entry_age("1800000009000-0", now))
    assert (h.count, h.sum) == (1, 1.0)
