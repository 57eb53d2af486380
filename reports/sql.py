"""Report aggregates computed in the database: one GROUP BY (bucket, key) per source.

The bucket is the local (center time zone) interval start of a UTC timestamp:
- PostgreSQL: date_trunc / date_bin over `ts AT TIME ZONE <zone>`;
- SQLite: integer arithmetic on strftime('%s', ts) plus the zone's UTC offset (a CASE
  over the offset segments of the range, see reports.intervals.offset_segments), and
  strftime('%Y-%m', ts, '<offset> seconds') for months.
Each SELECT mirrors a function of reports/metrics.py (`call_aggregates`, ...); the
integration tests check that both give the same numbers on both databases.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from db.models import metadata
from reports.intervals import FIXED_SECONDS, Interval, ReportRange, offset_segments
from reports.metrics import ABANDONED_QUEUE, CALLBACK_REQUESTED, OVERFLOWED, Thresholds

CALLS = metadata.tables["calls"]
SURVEYS = metadata.tables["surveys"]
TICKETS = metadata.tables["tickets"]
TICKET_CALLS = metadata.tables["ticket_calls"]
EPOCH = dt.datetime(1970, 1, 1)
NO_KEY: ColumnElement[str] = sa.literal_column(
    "''"
)  # inline: PostgreSQL cannot group by a parameter


class Dimension(StrEnum):
    TOTAL = "total"
    QUEUE = "queue"
    SKILL = "skill"
    AGENT = "agent"
    CATEGORY = "category"


@dataclass(frozen=True, slots=True)
class ReportQuery:
    range: ReportRange
    interval: Interval
    dimension: Dimension = Dimension.TOTAL
    queues: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    agent_ids: tuple[int, ...] = ()
    categories: tuple[str, ...] = ()


Key = tuple[dt.datetime, str]  # (naive local bucket start, dimension key)


# -- buckets ---------------------------------------------------------------------------


def bucket_sql(col: Any, q: ReportQuery, dialect: str) -> ColumnElement[Any]:
    zone = q.range.timezone
    if dialect == "postgresql":
        fixed = FIXED_SECONDS.get(q.interval)
        segments = offset_segments(q.range.start_utc, q.range.end_utc, q.range.zone)
        if fixed is not None and len(segments) == 1:
            # One UTC offset over the range: bins from a local midnight, on the timestamptz
            # itself (a third faster than converting every row to local time).
            origin = sa.literal(q.range.start_utc, sa.DateTime(timezone=True))
            return sa.func.date_bin(sa.text(f"interval '{fixed} seconds'"), col, origin)
        local = sa.func.timezone(zone, col)  # = col AT TIME ZONE zone (naive local)
        if q.interval is Interval.MIN15:
            return sa.func.date_bin(
                sa.text("interval '15 minutes'"), local, sa.text("timestamp '2000-01-01'")
            )
        unit = {Interval.HOUR: "hour", Interval.DAY: "day", Interval.MONTH: "month"}[q.interval]
        return sa.func.date_trunc(unit, local)
    offset = _sqlite_offset(col, q)
    if q.interval is Interval.MONTH:
        modifier = sa.func.printf("%d seconds", offset)
        return sa.func.strftime("%Y-%m", col, modifier)
    seconds = _unixepoch(col) + offset
    return seconds // FIXED_SECONDS[q.interval]  # integer division: floor for epoch >= 0


def _unixepoch(col: Any) -> ColumnElement[Any]:
    # unixepoch() (SQLite >= 3.38) is twice as fast as CAST(strftime('%s', ..)).
    if sqlite3.sqlite_version_info >= (3, 38):
        return sa.func.unixepoch(col)
    return sa.cast(sa.func.strftime("%s", col), sa.Integer)


def _sqlite_offset(col: Any, q: ReportQuery) -> ColumnElement[Any]:
    segments = offset_segments(q.range.start_utc, q.range.end_utc, q.range.zone)
    if len(segments) == 1:
        return sa.literal(segments[0][1])
    whens = [(col < segments[i + 1][0], segments[i][1]) for i in range(len(segments) - 1)]
    return sa.case(*whens, else_=segments[-1][1])


def bucket_value(value: Any, interval: Interval, zone: ZoneInfo) -> dt.datetime:
    """What bucket_sql returned -> the naive local bucket start."""
    if isinstance(value, dt.datetime):  # PostgreSQL: aware from date_bin, else local
        if value.tzinfo is not None:
            return value.astimezone(zone).replace(tzinfo=None)
        return value
    if isinstance(value, str):  # SQLite month 'YYYY-MM'
        year, month = value.split("-")
        return dt.datetime(int(year), int(month), 1)
    return EPOCH + dt.timedelta(seconds=int(value) * FIXED_SECONDS[interval])


def in_range(col: Any, q: ReportQuery) -> ColumnElement[bool]:
    return sa.and_(col >= q.range.start_utc, col < q.range.end_utc)


# -- calls -----------------------------------------------------------------------------


def calls_statement(q: ReportQuery, thresholds: Thresholds, dialect: str) -> sa.Select[Any]:
    c = CALLS.c
    bucket = bucket_sql(c.started_at, q, dialect).label("bucket")
    source: Any = CALLS
    key: Any
    if q.dimension is Dimension.CATEGORY:
        source = CALLS.join(TICKET_CALLS, TICKET_CALLS.c.call_id == c.id).join(
            TICKETS, TICKETS.c.id == TICKET_CALLS.c.ticket_id
        )
        key = TICKETS.c.category
    else:
        key = _call_key(q.dimension)
    queued = c.queued_at.is_not(None)
    answered = sa.and_(queued, c.answered_at.is_not(None))
    sl_seconds = sa.case(
        {name: seconds for name, seconds in thresholds.service_seconds},
        value=c.queue,
        else_=thresholds.default_service_seconds,
    )
    abandoned = sa.and_(queued, c.answered_at.is_(None), c.disposition == ABANDONED_QUEUE)
    short = c.wait_seconds < thresholds.short_abandon_seconds
    fcr = c.first_contact_resolution
    # (Aggregates field, condition or None, summed value or None = count)
    specs: list[tuple[str, Any, Any]] = [
        ("offered", queued, None),
        ("answered", answered, None),
        ("answered_in_sl", sa.and_(answered, c.wait_seconds <= sl_seconds), None),
        ("abandoned", sa.and_(abandoned, sa.not_(short)), None),
        ("short_abandoned", sa.and_(abandoned, short), None),
        ("callbacks", c.disposition == CALLBACK_REQUESTED, None),
        ("overflowed", c.disposition == OVERFLOWED, None),
        ("wait_answered_seconds", answered, c.wait_seconds),
        ("talk_seconds", answered, c.talk_seconds),
        ("hold_seconds", answered, c.hold_seconds),
        ("wrap_seconds", answered, c.wrap_seconds),
        ("transfers", None, c.transfers),
        ("fcr_known", sa.and_(answered, fcr.is_not(None)), None),
        ("fcr_resolved", sa.and_(answered, fcr == sa.true()), None),
    ]
    where = [in_range(c.started_at, q), *_call_filters(q)]
    columns = [
        (sa.func.count() if value is None else sa.func.sum(value))
        .filter(*([] if condition is None else [condition]))
        .label(name)
        for name, condition, value in specs
    ]
    return (
        sa.select(bucket, key.label("key"), *columns)
        .select_from(source)
        .where(*where)
        .group_by(sa.text("1"), sa.text("2"))
    )


def _call_key(dimension: Dimension) -> Any:
    c = CALLS.c
    return {
        Dimension.TOTAL: NO_KEY,
        Dimension.QUEUE: c.queue,
        Dimension.SKILL: c.skill,
        Dimension.AGENT: c.agent_id,
    }[dimension]


def _call_filters(q: ReportQuery) -> list[ColumnElement[bool]]:
    c = CALLS.c
    where: list[ColumnElement[bool]] = []
    if q.queues:
        where.append(c.queue.in_(q.queues))
    if q.skills:
        where.append(c.skill.in_(q.skills))
    if q.agent_ids:
        where.append(c.agent_id.in_(q.agent_ids))
    if q.categories:
        if q.dimension is Dimension.CATEGORY:
            where.append(TICKETS.c.category.in_(q.categories))
        else:
            linked = (
                sa.select(TICKET_CALLS.c.call_id)
                .join(TICKETS, TICKETS.c.id == TICKET_CALLS.c.ticket_id)
                .where(TICKETS.c.category.in_(q.categories))
            )
            where.append(c.id.in_(linked))
    return where


# -- surveys and tickets ---------------------------------------------------------------


def surveys_statement(q: ReportQuery, dialect: str) -> sa.Select[Any]:
    s = SURVEYS.c
    source: Any = SURVEYS
    needs_call = q.dimension in (Dimension.QUEUE, Dimension.SKILL) or q.queues or q.skills
    needs_ticket = q.dimension is Dimension.CATEGORY or q.categories
    if needs_call:
        source = source.join(CALLS, CALLS.c.id == s.call_id)
    if needs_ticket:
        source = source.join(TICKETS, TICKETS.c.id == s.ticket_id)
    key: Any = {
        Dimension.TOTAL: NO_KEY,
        Dimension.QUEUE: CALLS.c.queue,
        Dimension.SKILL: CALLS.c.skill,
        Dimension.AGENT: s.agent_id,
        Dimension.CATEGORY: TICKETS.c.category,
    }[q.dimension]
    where = [in_range(s.at, q), s.rating.is_not(None)]
    if q.queues:
        where.append(CALLS.c.queue.in_(q.queues))
    if q.skills:
        where.append(CALLS.c.skill.in_(q.skills))
    if q.agent_ids:
        where.append(s.agent_id.in_(q.agent_ids))
    if q.categories:
        where.append(TICKETS.c.category.in_(q.categories))
    return (
        sa.select(
            bucket_sql(s.at, q, dialect).label("bucket"),
            key.label("key"),
            sa.func.count().label("surveys_rated"),
            sa.func.sum(s.rating).label("rating_sum"),
            sa.func.count().filter(s.rating >= 4).label("surveys_satisfied"),
        )
        .select_from(source)
        .where(*where)
        .group_by(sa.text("1"), sa.text("2"))
    )


def tickets_statement(q: ReportQuery, dialect: str) -> sa.Select[Any] | None:
    """None when the query cannot concern tickets (tickets have no queue or skill)."""
    if q.dimension in (Dimension.QUEUE, Dimension.SKILL) or q.queues or q.skills:
        return None
    t = TICKETS.c
    key: Any = {
        Dimension.TOTAL: NO_KEY,
        Dimension.AGENT: t.created_by_id,
        Dimension.CATEGORY: t.category,
    }[q.dimension]
    where = [in_range(t.created_at, q)]
    if q.agent_ids:
        where.append(t.created_by_id.in_(q.agent_ids))
    if q.categories:
        where.append(t.category.in_(q.categories))
    return (
        sa.select(
            bucket_sql(t.created_at, q, dialect).label("bucket"),
            key.label("key"),
            sa.func.count().label("tickets"),
            sa.func.count().filter(t.sla_response_met == sa.true()).label("sla_response_met"),
            sa.func.count().filter(t.sla_response_met == sa.false()).label("sla_response_breached"),
            sa.func.count().filter(t.sla_resolution_met == sa.true()).label("sla_resolution_met"),
            sa.func.count()
            .filter(t.sla_resolution_met == sa.false())
            .label("sla_resolution_breached"),
        )
        .where(*where)
        .group_by(sa.text("1"), sa.text("2"))
    )
