"""The staffing forecast's reads, lean: what the forecast needs and nothing else.

- Calls: one GROUP BY (15-minute local bucket, queue) over the history weeks with offered
  and answered counts and the answered calls' handle seconds; the bucket is the reports'
  own (reports.sql.bucket_sql: DST-correct on both databases).
- Agents signed in: agent_state_history summed per local interval by the database where
  a stretch lies inside one interval, the others spread over the intervals here. The
  general report works the same way at 15 minutes (reports/sql_states.py), but agents'
  half-hour stretches cross every 15-minute edge, so it split nearly every row in
  Python: ten times slower for nine weeks of a 120-agent center.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from db.models import metadata
from reports.intervals import Interval, ReportRange, offset_segments
from reports.metrics import LOGGED_OUT
from reports.sql import ReportQuery, bucket_sql, bucket_value, in_range

CALLS = metadata.tables["calls"]
STATES = metadata.tables["agent_state_history"]
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LONGEST_STRETCH = dt.timedelta(days=7)


def calls_statement(rng: ReportRange, queues: tuple[str, ...], dialect: str) -> sa.Select[Any]:
    c = CALLS.c
    q = ReportQuery(rng, Interval.MIN15, queues=queues)
    answered = c.answered_at.is_not(None)
    return (
        sa.select(
            bucket_sql(c.started_at, q, dialect).label("bucket"),
            c.queue.label("queue"),
            sa.func.count().label("offered"),
            sa.func.count().filter(answered).label("answered"),
            sa.func.sum(c.talk_seconds + c.hold_seconds + c.wrap_seconds)
            .filter(answered)
            .label("handle_seconds"),
        )
        .where(in_range(c.started_at, q), c.queued_at.is_not(None), c.queue.in_(queues))
        .group_by(sa.text("1"), sa.text("2"))
    )


def _epoch(col: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return sa.func.date_part("epoch", col)
    return (sa.func.julianday(col) - 2440587.5) * 86400.0


def _slot(epoch: ColumnElement[Any], rng: ReportRange, width: int, dialect: str) -> Any:
    """The local interval number since 1970 of an epoch-seconds expression."""
    segments = offset_segments(rng.start_utc, rng.end_utc, rng.zone)
    offset: Any = sa.literal(segments[0][1])
    if len(segments) > 1:
        whens = [
            (epoch < (segments[i + 1][0] - EPOCH).total_seconds(), segments[i][1])
            for i in range(len(segments) - 1)
        ]
        offset = sa.case(*whens, else_=segments[-1][1])
    local = (epoch + offset) / float(width)
    if dialect == "postgresql":
        return sa.cast(sa.func.floor(local), sa.BigInteger)
    return sa.cast(local, sa.Integer)  # truncation = floor for epochs after 1970


def states_statement(rng: ReportRange, minutes: int, dialect: str) -> sa.Select[Any]:
    """Rows (split, slot, seconds, start, end): stretches inside one interval and inside
    the range are summed per interval here (split NULL); the others (crossing an edge,
    the range's ends, still open) come one per row (split = id) with their epoch start
    and end, for spread_seconds. Only stretches that began at most LONGEST_STRETCH
    before the range: the bound lets the index on started_at read the range alone (an
    agent "signed in" for over a week is a forgotten sign-out, not staffing)."""
    s = STATES.c
    width = minutes * 60
    start, end = _epoch(s.started_at, dialect), _epoch(s.ended_at, dialect)
    first = _slot(start, rng, width, dialect)
    inside = sa.and_(
        s.ended_at.is_not(None),
        s.started_at >= rng.start_utc,
        s.ended_at <= rng.end_utc,
        first == _slot(end - 0.001, rng, width, dialect),  # ending on the edge is inside
    )
    return (
        sa.select(
            sa.case((inside, sa.null()), else_=s.id).label("split"),
            first.label("slot"),
            sa.func.sum(end - start).label("seconds"),
            sa.func.min(start).label("start"),
            sa.func.max(end).label("end"),
        )
        .where(
            s.started_at >= rng.start_utc - LONGEST_STRETCH,
            s.started_at < rng.end_utc,
            sa.or_(s.ended_at.is_(None), s.ended_at > rng.start_utc),
            s.state != LOGGED_OUT,
        )
        .group_by(sa.text("1"), sa.text("2"))
    )


async def fetch_calls(
    engine: AsyncEngine, rng: ReportRange, queues: tuple[str, ...]
) -> list[tuple[dt.datetime, str, int, int, float]]:
    """(naive local 15-minute bucket, queue, offered, answered, handle seconds)."""
    async with engine.connect() as conn:
        rows = await conn.execute(calls_statement(rng, queues, engine.dialect.name))
        zone = rng.zone
        return [
            (
                bucket_value(r.bucket, Interval.MIN15, zone),
                str(r.queue),
                int(r.offered or 0),
                int(r.answered or 0),
                float(r.handle_seconds or 0),
            )
            for r in rows
        ]


async def signed_in_seconds(
    engine: AsyncEngine, rng: ReportRange, minutes: int, now: dt.datetime
) -> dict[tuple[dt.date, int], float]:
    """Logged-in agent seconds per (local day, interval index) over the range; a
    stretch still open counts until `now`."""
    async with engine.connect() as conn:
        rows = (await conn.execute(states_statement(rng, minutes, engine.dialect.name))).all()
    summed = {int(r.slot): float(r.seconds or 0) for r in rows if r.split is None}
    split = [
        (float(r.start), None if r.end is None else float(r.end))
        for r in rows
        if r.split is not None
    ]
    return spread_seconds(split, rng, minutes, now, summed)


def spread_seconds(
    stretches: list[tuple[float, float | None]],
    rng: ReportRange,
    minutes: int,
    now: dt.datetime,
    summed: dict[int, float] | None = None,
) -> dict[tuple[dt.date, int], float]:
    """Pure: epoch-second stretches [start, end) clipped to the range, summed per local
    interval (added to `summed`, seconds per local interval number since 1970). The UTC
    offset is the zone's at each stretch's start (a stretch across a DST change is off
    by the change for its remainder)."""
    zone: ZoneInfo = rng.zone
    lo = (rng.start_utc - EPOCH).total_seconds()
    hi = (rng.end_utc - EPOCH).total_seconds()
    now_s = (now - EPOCH).total_seconds()
    segments = offset_segments(rng.start_utc, rng.end_utc, zone)
    starts = [(at - EPOCH).total_seconds() for at, _ in segments]
    offsets = [offset for _, offset in segments]
    width = minutes * 60
    per_day = 86400 // width
    by_slot: dict[int, float] = defaultdict(float, summed or {})  # local slot since 1970
    for start, end in stretches:
        a = max(start, lo)
        b = min(now_s if end is None else end, hi)
        if b <= a:
            continue
        shift = offsets[bisect.bisect_right(starts, a) - 1] if len(starts) > 1 else offsets[0]
        a, b = a + shift, b + shift  # local "epoch"
        slot = int(a // width)
        edge = (slot + 1) * width
        if b <= edge:  # nearly every stretch: inside one interval
            by_slot[slot] += b - a
            continue
        by_slot[slot] += edge - a
        slot += 1
        while slot * width < b:
            by_slot[slot] += min(b, (slot + 1) * width) - slot * width
            slot += 1
    day0 = dt.date(1970, 1, 1)
    return {
        (day0 + dt.timedelta(days=slot // per_day), slot % per_day): seconds
        for slot, seconds in by_slot.items()
    }
