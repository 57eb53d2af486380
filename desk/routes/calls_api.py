"""Calls: live (in progress) and history, one call with its timeline. Agents see only
the calls they were offered or answered (desk/access.py). Callers' numbers are masked
for roles outside privacy.full_number_roles (privacy/numbers.py; full ones audited)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from sqlalchemy.orm import selectinload
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agent_api.auth import Principal, require_roles
from agent_api.deps import ServicesDep, SessionDep
from agent_api.errors import AccessDenied, NotFound, error_responses
from customers.views import CallSummary
from db.models import Call, CallEvent, Disposition, Role
from desk.access import agent_calls_filter
from desk.deps import HubDep
from desk.push.hub import AgentHub
from privacy.numbers import for_viewer, one_for_viewer
from recordings.history import call_recordings

router = APIRouter(prefix="/api/calls", tags=["calls"])
Viewer = Annotated[Principal, require_roles(Role.AGENT, Role.SUPERVISOR, Role.QA, Role.ADMIN)]
Linkedid = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$")]


class CallEventOut(BaseModel):
    at: dt.datetime
    kind: str
    data: dict[str, Any]


class RecordingStepOut(BaseModel):
    at: dt.datetime
    action: str  # start | pause | resume | stop
    by: str


class CallRecordingOut(BaseModel):
    recording_id: int
    state: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    duration_seconds: float | None
    paused_seconds: float
    steps: list[RecordingStepOut]


class CallDetail(BaseModel):
    call: CallSummary
    queue: str | None
    priority: int
    tier: str | None
    hold_seconds: float
    wrap_seconds: float
    hangup_cause: str | None
    recording_id: int | None
    # Every recording of the call with who started, paused, resumed and stopped it.
    recordings: list[CallRecordingOut]
    events: list[CallEventOut]


def _own(user: Principal) -> bool:
    return user.role is Role.AGENT


@router.get(
    "/live",
    response_model=list[CallSummary],
    responses=error_responses(401, 403, 422),
    summary="Calls in progress (agents: their own)",
)
async def live_calls(
    user: Viewer,
    session: SessionDep,
    services: ServicesDep,
    hub: HubDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[CallSummary]:
    stmt = select(Call).where(col(Call.disposition) == Disposition.IN_PROGRESS)
    if _own(user):
        stmt = stmt.where(agent_calls_filter(user, hub))
    stmt = stmt.order_by(col(Call.started_at).desc()).limit(limit)
    calls = [CallSummary.of(c) for c in (await session.exec(stmt)).all()]
    return await for_viewer(
        calls, user=user, services=services, session=session, object_type="call"
    )


@router.get(
    "",
    response_model=list[CallSummary],
    responses=error_responses(401, 403, 422),
    summary="Call history, newest first (agents: their own)",
)
async def call_history(
    user: Viewer,
    session: SessionDep,
    services: ServicesDep,
    hub: HubDep,
    since: Annotated[dt.datetime | None, Query(alias="from")] = None,
    until: Annotated[dt.datetime | None, Query(alias="to")] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    number: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[CallSummary]:
    stmt = select(Call)
    if _own(user):
        stmt = stmt.where(agent_calls_filter(user, hub))
    if since is not None:
        stmt = stmt.where(col(Call.started_at) >= _aware(since))
    if until is not None:
        stmt = stmt.where(col(Call.started_at) < _aware(until))
    if customer_id is not None:
        stmt = stmt.where(col(Call.customer_id) == customer_id)
    if number and "*" in number:
        # A masked number (what an agent's desk shows, 139****5678): the calls from a
        # number with that head, tail and length (agents: among their own calls).
        head, _, tail = number.strip().partition("*")
        tail = tail.lstrip("*")
        stmt = stmt.where(
            col(Call.caller_number).like(f"{_like(head)}%{_like(tail)}", escape="\\"),
            sa.func.length(col(Call.caller_number)) == len(number.strip()),
        )
    elif number:
        from db.phones import normalize_phone

        stmt = stmt.where(col(Call.caller_number) == normalize_phone(number))
    stmt = stmt.order_by(col(Call.started_at).desc()).offset(offset).limit(limit)
    calls = [CallSummary.of(c) for c in (await session.exec(stmt)).all()]
    return await for_viewer(
        calls, user=user, services=services, session=session, object_type="call"
    )


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "")


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


async def visible_call(
    session: AsyncSession, user: Principal, hub: AgentHub, linkedid: str
) -> Call:
    """The call row, if this user may see it (NotFound / AccessDenied otherwise)."""
    call = (await session.exec(select(Call).where(Call.linkedid == linkedid))).first()
    if call is None:
        raise NotFound(f"no call {linkedid}")
    if _own(user):
        mine = select(Call.id).where(Call.id == call.id, agent_calls_filter(user, hub))
        if (await session.exec(mine)).first() is None:
            raise AccessDenied("this call was not offered to you")
    return call


@router.get(
    "/{linkedid}",
    response_model=CallDetail,
    responses=error_responses(401, 403, 404, 422),
    summary="One call with its timeline",
)
async def call_detail(
    linkedid: Linkedid, user: Viewer, session: SessionDep, services: ServicesDep, hub: HubDep
) -> CallDetail:
    call = await visible_call(session, user, hub, linkedid)
    stmt = (
        select(Call)
        .where(Call.id == call.id)
        .options(selectinload(Call.events))  # type: ignore[arg-type]
        .execution_options(populate_existing=True)
    )
    full = (await session.exec(stmt)).one()
    events: list[CallEvent] = sorted(full.events, key=lambda e: (e.at, e.id or 0))
    now = dt.datetime.now(dt.UTC)
    recordings = await call_recordings(await session.connection(), full.linkedid, now)
    detail = CallDetail(
        call=CallSummary.of(full),
        queue=full.queue,
        priority=full.priority,
        tier=full.tier,
        hold_seconds=full.hold_seconds,
        wrap_seconds=full.wrap_seconds,
        hangup_cause=full.hangup_cause,
        recording_id=full.recording_id,
        recordings=[
            CallRecordingOut(
                recording_id=r.recording_id,
                state=r.state,
                started_at=r.started_at,
                ended_at=r.ended_at,
                duration_seconds=r.duration_seconds,
                paused_seconds=r.paused_seconds,
                steps=[RecordingStepOut(at=s.at, action=s.action, by=s.by) for s in r.steps],
            )
            for r in recordings
        ],
        events=[CallEventOut(at=e.at, kind=e.kind, data=e.data) for e in events],
    )
    return await one_for_viewer(
        detail,
        user=user,
        services=services,
        session=session,
        object_type="call",
        object_id=linkedid,
    )
