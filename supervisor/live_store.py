"""What the live view reads from the database after a (re)start: today's call rows,
calls still in progress from the day before, agents (names, extensions, skills) and
today's agent state history. Read once at start (skills again every few seconds while
no router runs in this process). `load_counts` is read at start and again whenever
tickets, surveys or callbacks may have changed: today's tickets and surveys with the day
report's own statements (reports/sql.py), pending callbacks from the router's store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import Role, metadata
from reports.intervals import Interval, ReportRange
from reports.metrics import Aggregates
from reports.sql import Dimension, ReportQuery, surveys_statement, tickets_statement
from routing.callback_store import ACTIVE as CALLBACKS_TO_MAKE
from supervisor.live_agents import Stretch
from supervisor.live_model import DbCounts

CALLS = metadata.tables["calls"]
USERS = metadata.tables["users"]
SKILLS = metadata.tables["agent_skills"]
STATES = metadata.tables["agent_state_history"]
CALLBACKS = metadata.tables["callback_requests"]
# Calls the live view folds or shows: what call_row_values writes and facts_from_row reads.
_CALL_COLUMNS = (
    "linkedid",
    "pbx_node",
    "started_at",
    "queue",
    "queued_at",
    "answered_at",
    "ended_at",
    "disposition",
    "wait_seconds",
    "talk_seconds",
    "hold_seconds",
    "wrap_seconds",
    "transfers",
    "first_contact_resolution",
    "caller_number",
    "agents",
    "last_seq",
)
STILL_WAITING_DAYS = 1  # in-progress rows older than this are stale, not callers on hold


@dataclass(frozen=True, slots=True)
class AgentRow:
    agent_id: int
    extension: str | None
    name: str | None
    skills: dict[str, int]


def _aware(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)  # SQLite may hand back naive UTC
    return value


async def load_calls(
    sessions: async_sessionmaker[AsyncSession],
    day_start: dt.datetime,
    pbx_node: str | None = None,  # None: every Asterisk node's calls
) -> list[tuple[str, Mapping[str, Any]]]:
    c = CALLS.c
    stale = day_start - dt.timedelta(days=STILL_WAITING_DAYS)
    stmt = sa.select(*(c[name] for name in _CALL_COLUMNS)).where(
        *([c.pbx_node == pbx_node] if pbx_node is not None else []),
        sa.or_(
            c.started_at >= day_start,
            sa.and_(c.disposition == "in_progress", c.started_at >= stale),
        ),
    )
    async with sessions() as session:
        rows = (await (await session.connection()).execute(stmt)).mappings().all()
    out: list[tuple[str, Mapping[str, Any]]] = []
    for row in rows:
        values = {k: _aware(v) for k, v in row.items()}
        values["disposition"] = str(getattr(row["disposition"], "value", row["disposition"]))
        out.append((str(row["linkedid"]), values))
    return out


async def load_agents(sessions: async_sessionmaker[AsyncSession]) -> list[AgentRow]:
    """Active agents (the wallboard's people; others appear when they change state)."""
    async with sessions() as session:
        conn = await session.connection()
        users = (
            await conn.execute(
                sa.select(USERS.c.id, USERS.c.extension, USERS.c.display_name).where(
                    USERS.c.active == sa.true(), USERS.c.role == Role.AGENT
                )
            )
        ).all()
        skills = (
            await conn.execute(sa.select(SKILLS.c.user_id, SKILLS.c.skill, SKILLS.c.level))
        ).all()
    by_user: dict[int, dict[str, int]] = {}
    for user_id, skill, level in skills:
        by_user.setdefault(int(user_id), {})[str(skill)] = int(level)
    return [
        AgentRow(int(uid), ext or None, name or None, by_user.get(int(uid), {}))
        for uid, ext, name in users
    ]


async def load_stretches(
    sessions: async_sessionmaker[AsyncSession], day_start: dt.datetime
) -> list[Stretch]:
    """Today's state stretches and every agent's open one (its current state)."""
    s = STATES.c
    stmt = sa.select(s.user_id, s.state, s.reason, s.started_at, s.ended_at).where(
        sa.or_(s.ended_at.is_(None), s.ended_at > day_start)
    )
    async with sessions() as session:
        rows = (await (await session.connection()).execute(stmt)).all()
    return [
        Stretch(
            int(user_id),
            str(getattr(state, "value", state)),
            reason,
            _aware(started).timestamp(),
            _aware(ended).timestamp() if ended is not None else None,
        )
        for user_id, state, reason, started, ended in rows
    ]


async def load_counts(
    sessions: async_sessionmaker[AsyncSession], day: dt.date, timezone: str
) -> DbCounts:
    """Today's tickets and surveys as the day report sums them (center total; surveys
    also per queue of their call), and callbacks still to make per queue."""
    days = ReportRange(day, day, timezone)
    total_q = ReportQuery(days, Interval.DAY, Dimension.TOTAL)
    queue_q = ReportQuery(days, Interval.DAY, Dimension.QUEUE)
    c = CALLBACKS.c
    pending = (
        sa.select(c.skill, sa.func.count())
        .where(c.state.in_([s.value for s in CALLBACKS_TO_MAKE]))
        .group_by(c.skill)
    )
    async with sessions() as session:
        conn = await session.connection()
        dialect = conn.dialect.name
        total = Aggregates()
        tickets = tickets_statement(total_q, dialect)
        for stmt in (tickets, surveys_statement(total_q, dialect)):
            assert stmt is not None  # a total over days concerns tickets
            total = total + _sums((await conn.execute(stmt)).mappings().all())
        by_queue: dict[str, Aggregates] = {}
        for row in (await conn.execute(surveys_statement(queue_q, dialect))).mappings().all():
            key = str(row["key"] or "")
            by_queue[key] = by_queue.get(key, Aggregates()) + _sums([row])
        callbacks = {str(skill): int(n) for skill, n in (await conn.execute(pending)).all()}
    return DbCounts(total=total, by_queue=by_queue, callbacks_pending=callbacks)


def _sums(rows: Any) -> Aggregates:
    """Rows of a reports/sql.py statement (bucket, key, Aggregates fields) summed."""
    total = Aggregates()
    for row in rows:
        fields = {k: v or 0 for k, v in row.items() if k not in ("bucket", "key")}
        total = total + Aggregates(**fields)
    return total
