"""Agent time per bucket from agent_state_history, in one pass over the range.

Stretches that start and end inside one bucket (nearly all of them) are summed by the
database; the others (crossing a bucket boundary, the range's edges, or still open) come
back one per row (grouped by their own id) and are split in Python at the boundaries
(reports.intervals.split_stretch). logged_out time counts nowhere (reports/metrics.py).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from db.models import metadata
from reports.metrics import BUSY_STATES, LOGGED_OUT
from reports.sql import NO_KEY, Dimension, ReportQuery, bucket_sql

STATES = metadata.tables["agent_state_history"]


def states_applicable(q: ReportQuery) -> bool:
    """Agent time has no queue, skill or ticket category: only totals and per agent."""
    return q.dimension in (Dimension.TOTAL, Dimension.AGENT) and not (
        q.queues or q.skills or q.categories
    )


def _seconds_between(start: Any, end: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return sa.func.date_part("epoch", end - start)  # double; extract() is numeric
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0


def states_statement(q: ReportQuery, dialect: str) -> sa.Select[Any]:
    """Rows: bucket, key, split_id (NULL = summed here), busy_seconds,
    logged_in_seconds, state, started_at, ended_at (the last three for split rows)."""
    s = STATES.c
    start_bucket = bucket_sql(s.started_at, q, dialect)
    split = sa.or_(
        s.ended_at.is_(None),  # first: TRUE OR NULL is TRUE
        s.started_at < q.range.start_utc,
        s.ended_at > q.range.end_utc,
        start_bucket != bucket_sql(s.ended_at, q, dialect),
    )
    split_id = sa.case((split, s.id), else_=sa.null())
    seconds = _seconds_between(s.started_at, s.ended_at, dialect)
    key = s.user_id if q.dimension is Dimension.AGENT else NO_KEY
    where = [
        s.started_at < q.range.end_utc,
        sa.or_(s.ended_at.is_(None), s.ended_at > q.range.start_utc),
        s.state != LOGGED_OUT,
    ]
    if q.agent_ids:
        where.append(s.user_id.in_(q.agent_ids))
    return (
        sa.select(
            start_bucket.label("bucket"),
            key.label("key"),
            split_id.label("split_id"),
            sa.func.sum(seconds).filter(s.state.in_(tuple(BUSY_STATES))).label("busy_seconds"),
            sa.func.sum(seconds).label("logged_in_seconds"),
            sa.func.min(s.state).label("state"),
            sa.func.min(s.started_at).label("started_at"),
            sa.func.max(s.ended_at).label("ended_at"),
        )
        .where(*where)
        .group_by(sa.text("1"), sa.text("2"), sa.text("3"))
    )
