"""A call's recordings with who started, paused, resumed and stopped them, and when (from
the audit trail the recordings service writes): what the call's record shows
(GET /api/calls/{linkedid}). `paused_seconds` is the pure rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import metadata

RECORDINGS = metadata.tables["recordings"]
AUDIT = metadata.tables["audit_log"]
CONTROL_ACTIONS = ("recording.start", "recording.pause", "recording.resume", "recording.stop")


@dataclass(frozen=True)
class ControlStep:
    at: dt.datetime
    action: str  # start | pause | resume | stop
    by: str  # username, or "system" (started by policy on answer)


@dataclass(frozen=True)
class CallRecording:
    recording_id: int
    state: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    duration_seconds: float | None
    paused_seconds: float
    steps: tuple[ControlStep, ...]


def paused_seconds(steps: Sequence[ControlStep], until: dt.datetime) -> float:
    """Seconds between each pause and the resume (or stop, or `until`) after it."""
    total, paused_at = 0.0, None
    for step in sorted(steps, key=lambda s: s.at):
        if step.action == "pause" and paused_at is None:
            paused_at = step.at
        elif step.action in ("resume", "stop") and paused_at is not None:
            total += (step.at - paused_at).total_seconds()
            paused_at = None
    if paused_at is not None:
        total += max(0.0, (until - paused_at).total_seconds())
    return round(total, 3)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


async def call_recordings(
    conn: AsyncConnection, linkedid: str, now: dt.datetime
) -> list[CallRecording]:
    r = RECORDINGS.c
    rows = (
        await conn.execute(
            sa.select(r.id, r.state, r.started_at, r.ended_at, r.duration_seconds)
            .where(r.linkedid == linkedid)
            .order_by(r.id)
        )
    ).all()
    if not rows:
        return []
    a = AUDIT.c
    audit = (
        await conn.execute(
            sa.select(a.object_id, a.at, a.action, a.actor_name)
            .where(
                a.object_type == "recording",
                a.object_id.in_([str(row.id) for row in rows]),
                a.action.in_(CONTROL_ACTIONS),
            )
            .order_by(a.at, a.id)
        )
    ).all()
    steps: dict[str, list[ControlStep]] = {}
    for entry in audit:
        steps.setdefault(str(entry.object_id), []).append(
            ControlStep(_aware(entry.at), entry.action.removeprefix("recording."), entry.actor_name)
        )
    out = []
    for row in rows:
        own = steps.get(str(row.id), [])
        until = _aware(row.ended_at) if row.ended_at is not None else now
        out.append(
            CallRecording(
                recording_id=row.id,
                state=str(row.state),
                started_at=_aware(row.started_at),
                ended_at=_aware(row.ended_at) if row.ended_at is not None else None,
                duration_seconds=row.duration_seconds,
                paused_seconds=paused_seconds(own, until),
                steps=tuple(own),
            )
        )
    return out
