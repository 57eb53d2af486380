"""SQL of quality inspection: samples, scores, supervisor ratings, and the reads of calls,
recordings, surveys and users they join (Core expressions over db.models tables)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import metadata
from qa.sampling import Candidate

CALLS = metadata.tables["calls"]
RECORDINGS = metadata.tables["recordings"]
USERS = metadata.tables["users"]
SURVEYS = metadata.tables["surveys"]
SAMPLES = metadata.tables["qa_samples"]
SCORES = metadata.tables["qa_scores"]
RATINGS = metadata.tables["supervisor_ratings"]
LIMIT = 500

_agent = USERS.alias("agent")
_inspector = USERS.alias("inspector")
_later = SCORES.alias("later")


def _iso(row: Any) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in row.items()}


def _playable() -> Any:
    """A recording one can play: finished, its file kept."""
    return sa.and_(RECORDINGS.c.state == "completed", RECORDINGS.c.deleted_at.is_(None))


async def candidates(s: AsyncConnection, start: dt.datetime, end: dt.datetime) -> list[Candidate]:
    """The week's answered calls with an agent and a playable recording."""
    recording = (
        sa.select(sa.func.max(RECORDINGS.c.id))
        .where(RECORDINGS.c.call_id == CALLS.c.id, _playable())
        .scalar_subquery()
    )
    query = sa.select(CALLS.c.id, CALLS.c.agent_id, recording.label("recording_id")).where(
        CALLS.c.started_at >= start,
        CALLS.c.started_at < end,
        CALLS.c.disposition == "answered",
        CALLS.c.agent_id.is_not(None),
    )
    rows = (await s.execute(query)).all()
    return [Candidate(r.id, r.agent_id, r.recording_id) for r in rows if r.recording_id]


async def sampled(s: AsyncConnection, week: str) -> list[Candidate]:
    query = sa.select(SAMPLES.c.call_id, SAMPLES.c.agent_id, SAMPLES.c.recording_id).where(
        SAMPLES.c.week == week
    )
    return [Candidate(r.call_id, r.agent_id, r.recording_id) for r in await s.execute(query)]


async def add_samples(
    s: AsyncConnection, week: str, drawn: list[Candidate], by: int | None, now: dt.datetime
) -> None:
    if drawn:
        await s.execute(
            SAMPLES.insert(),
            [
                {
                    "week": week,
                    "agent_id": c.agent_id,
                    "call_id": c.call_id,
                    "recording_id": c.recording_id,
                    "state": "pending",
                    "drawn_by_id": by,
                    "drawn_at": now,
                }
                for c in drawn
            ],
        )


async def samples(
    s: AsyncConnection, *, week: str | None, state: str | None, agent_id: int | None
) -> list[dict[str, Any]]:
    query = (
        sa.select(
            SAMPLES.c.id,
            SAMPLES.c.week,
            SAMPLES.c.agent_id,
            _agent.c.display_name.label("agent_name"),
            SAMPLES.c.call_id,
            CALLS.c.linkedid,
            CALLS.c.started_at,
            CALLS.c.talk_seconds,
            CALLS.c.queue,
            SAMPLES.c.recording_id,
            SAMPLES.c.state,
            SAMPLES.c.drawn_at,
            SAMPLES.c.done_at,
        )
        .join(CALLS, CALLS.c.id == SAMPLES.c.call_id)
        .join(_agent, _agent.c.id == SAMPLES.c.agent_id)
        .order_by(SAMPLES.c.state.desc(), SAMPLES.c.id)  # pending first
        .limit(LIMIT)
    )
    if week is not None:
        query = query.where(SAMPLES.c.week == week)
    if state is not None:
        query = query.where(SAMPLES.c.state == state)
    if agent_id is not None:
        query = query.where(SAMPLES.c.agent_id == agent_id)
    return [_iso(r) for r in (await s.execute(query)).mappings()]


async def call(s: AsyncConnection, call_id: int) -> dict[str, Any] | None:
    query = (
        sa.select(
            CALLS.c.id,
            CALLS.c.linkedid,
            CALLS.c.started_at,
            CALLS.c.answered_at,
            CALLS.c.ended_at,
            CALLS.c.talk_seconds,
            CALLS.c.queue,
            CALLS.c.skill,
            CALLS.c.disposition,
            CALLS.c.agent_id,
            _agent.c.display_name.label("agent_name"),
            CALLS.c.recording_id.label("main_recording_id"),
        )
        .outerjoin(_agent, _agent.c.id == CALLS.c.agent_id)
        .where(CALLS.c.id == call_id)
    )
    row = (await s.execute(query)).mappings().first()
    return None if row is None else _iso(row)


async def recordings_of(s: AsyncConnection, call_id: int) -> list[dict[str, Any]]:
    query = (
        sa.select(
            RECORDINGS.c.id,
            RECORDINGS.c.state,
            RECORDINGS.c.format,
            RECORDINGS.c.agent_id,
            RECORDINGS.c.started_at,
            RECORDINGS.c.duration_seconds,
            RECORDINGS.c.deleted_at,
        )
        .where(RECORDINGS.c.call_id == call_id)
        .order_by(RECORDINGS.c.id)
    )
    return [_iso(r) for r in (await s.execute(query)).mappings()]


async def pending_sample(s: AsyncConnection, call_id: int) -> int | None:
    query = sa.select(SAMPLES.c.id).where(SAMPLES.c.call_id == call_id)
    found: int | None = await s.scalar(query)
    return found


async def current_score_id(s: AsyncConnection, call_id: int) -> int | None:
    query = (
        sa.select(SCORES.c.id)
        .where(SCORES.c.call_id == call_id)
        .where(~sa.exists().where(_later.c.supersedes_id == SCORES.c.id))
        .order_by(SCORES.c.id.desc())
    )
    found: int | None = await s.scalar(query)
    return found


async def add_score(s: AsyncConnection, values: dict[str, Any]) -> int:
    result = await s.execute(SCORES.insert().values(**values).returning(SCORES.c.id))
    score_id: int = result.scalar_one()
    return score_id


async def mark_done(s: AsyncConnection, sample_id: int, now: dt.datetime) -> None:
    await s.execute(
        SAMPLES.update().where(SAMPLES.c.id == sample_id).values(state="done", done_at=now)
    )


async def scores(
    s: AsyncConnection,
    *,
    agent_id: int | None = None,
    call_id: int | None = None,
    score_id: int | None = None,
    since: dt.datetime | None = None,
    current_only: bool = False,
) -> list[dict[str, Any]]:
    superseded_by = (
        sa.select(sa.func.min(_later.c.id))
        .where(_later.c.supersedes_id == SCORES.c.id)
        .scalar_subquery()
    )
    query = (
        sa.select(
            SCORES.c.id,
            SCORES.c.call_id,
            SCORES.c.linkedid,
            SCORES.c.recording_id,
            SCORES.c.agent_id,
            _agent.c.display_name.label("agent_name"),
            SCORES.c.inspector_id,
            _inspector.c.display_name.label("inspector_name"),
            SCORES.c.sample_id,
            SCORES.c.form_key,
            SCORES.c.answers,
            SCORES.c.fatal,
            SCORES.c.total,
            SCORES.c.comment,
            SCORES.c.supersedes_id,
            superseded_by.label("superseded_by"),
            SCORES.c.created_at,
            CALLS.c.started_at.label("call_started_at"),
        )
        .join(_agent, _agent.c.id == SCORES.c.agent_id)
        .join(_inspector, _inspector.c.id == SCORES.c.inspector_id)
        .join(CALLS, CALLS.c.id == SCORES.c.call_id)
        .order_by(SCORES.c.id.desc())
        .limit(LIMIT)
    )
    if agent_id is not None:
        query = query.where(SCORES.c.agent_id == agent_id)
    if call_id is not None:
        query = query.where(SCORES.c.call_id == call_id)
    if score_id is not None:
        query = query.where(SCORES.c.id == score_id)
    if since is not None:
        query = query.where(SCORES.c.created_at >= since)
    if current_only:
        query = query.where(~sa.exists().where(_later.c.supersedes_id == SCORES.c.id))
    return [_iso(r) for r in (await s.execute(query)).mappings()]


async def user(s: AsyncConnection, user_id: int) -> dict[str, Any] | None:
    query = sa.select(USERS.c.id, USERS.c.username, USERS.c.display_name, USERS.c.role).where(
        USERS.c.id == user_id
    )
    row = (await s.execute(query)).mappings().first()
    return None if row is None else dict(row)


async def agents(s: AsyncConnection) -> list[dict[str, Any]]:
    query = (
        sa.select(USERS.c.id, USERS.c.username, USERS.c.display_name, USERS.c.extension)
        .where(USERS.c.role == "agent", USERS.c.active.is_(True))
        .order_by(USERS.c.username)
        .limit(LIMIT)
    )
    return [dict(r) for r in (await s.execute(query)).mappings()]


async def add_rating(s: AsyncConnection, values: dict[str, Any]) -> int:
    result = await s.execute(RATINGS.insert().values(**values).returning(RATINGS.c.id))
    rating_id: int = result.scalar_one()
    return rating_id


async def ratings(
    s: AsyncConnection, agent_id: int, since: dt.datetime | None = None
) -> list[dict[str, Any]]:
    rater = USERS.alias("rater")
    query = (
        sa.select(
            RATINGS.c.id,
            RATINGS.c.agent_id,
            RATINGS.c.rater_id,
            rater.c.display_name.label("rater_name"),
            RATINGS.c.period,
            RATINGS.c.score,
            RATINGS.c.comment,
            RATINGS.c.created_at,
        )
        .join(rater, rater.c.id == RATINGS.c.rater_id)
        .where(RATINGS.c.agent_id == agent_id)
        .order_by(RATINGS.c.id.desc())
        .limit(LIMIT)
    )
    if since is not None:
        query = query.where(RATINGS.c.created_at >= since)
    return [_iso(r) for r in (await s.execute(query)).mappings()]


async def survey_ratings(s: AsyncConnection, agent_id: int, since: dt.datetime) -> list[int]:
    query = sa.select(SURVEYS.c.rating).where(
        SURVEYS.c.agent_id == agent_id, SURVEYS.c.at >= since, SURVEYS.c.rating.is_not(None)
    )
    return [int(r) for r in (await s.scalars(query))]
