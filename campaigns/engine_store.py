"""The campaign engine's SQL (campaigns/engine.py): running campaigns, contacts due,
calls in flight, the do-not-call list, attempts whose calls ended or never reported."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cti.calllog.writer import ensure_placeholders, hold_linkedids
from db.models import Call
from db.models.campaigns import (
    Campaign,
    CampaignAttempt,
    CampaignContact,
    CampaignKind,
    CampaignState,
    ContactState,
    DoNotCall,
)

# The kinds this engine dials itself; agents' lists go through the router
# (campaigns/agent_dialer.py).
ENGINE_KINDS = (CampaignKind.MESSAGE, CampaignKind.SURVEY, CampaignKind.APPOINTMENT)
CHUNK = 500  # ids per IN (...) list


async def running(session: AsyncSession) -> list[Campaign]:
    rows = await session.exec(
        select(Campaign)
        .where(
            col(Campaign.state) == CampaignState.RUNNING,
            col(Campaign.kind).in_([k.value for k in ENGINE_KINDS]),
        )
        .order_by(col(Campaign.id))
    )
    return list(rows.all())


async def in_flight(session: AsyncSession) -> dict[int, int]:
    """Calls in flight per campaign (attempts not ended), every kind: they share the trunk."""
    rows = await session.exec(
        select(CampaignAttempt.campaign_id, func.count())
        .where(col(CampaignAttempt.ended_at).is_(None))
        .group_by(col(CampaignAttempt.campaign_id))
    )
    return {int(cid): int(n) for cid, n in rows.all()}


def _due(campaign_id: int, now: dt.datetime) -> Any:
    return sa.and_(
        col(CampaignContact.campaign_id) == campaign_id,
        col(CampaignContact.state) == ContactState.PENDING,
        sa.or_(
            col(CampaignContact.next_attempt_at).is_(None),
            col(CampaignContact.next_attempt_at) <= now,
        ),
    )


async def due_contacts(
    session: AsyncSession, campaign_id: int, now: dt.datetime, limit: int
) -> list[CampaignContact]:
    """The contacts to dial first: never tried (in list order), then the longest due."""
    rows = await session.exec(
        select(CampaignContact)
        .where(_due(campaign_id, now))
        .order_by(
            col(CampaignContact.next_attempt_at).is_not(None),
            col(CampaignContact.next_attempt_at),
            col(CampaignContact.id),
        )
        .limit(limit)
    )
    return list(rows.all())


async def next_pending(session: AsyncSession, campaign_ids: Iterable[int]) -> dict[int, Any]:
    """Per campaign, the earliest next_attempt_at of its pending contacts (None = now)."""
    ids = list(campaign_ids)
    if not ids:
        return {}
    never = sa.literal(0)
    rows = await session.exec(
        select(
            CampaignContact.campaign_id,
            func.min(col(CampaignContact.next_attempt_at)),
            func.sum(sa.case((col(CampaignContact.next_attempt_at).is_(None), 1), else_=never)),
        )
        .where(
            col(CampaignContact.campaign_id).in_(ids),
            col(CampaignContact.state) == ContactState.PENDING,
        )
        .group_by(col(CampaignContact.campaign_id))
    )
    out: dict[int, Any] = {}
    for cid, earliest, untried in rows.all():
        out[int(cid)] = None if untried else earliest
    return out


async def blocked_numbers(session: AsyncSession, numbers: Iterable[str]) -> set[str]:
    """The numbers of `numbers` on the do-not-call list (entries not lifted)."""
    wanted = sorted(set(numbers))
    if not wanted:
        return set()
    rows = await session.exec(
        select(DoNotCall.number).where(
            col(DoNotCall.number).in_(wanted), col(DoNotCall.lifted_at).is_(None)
        )
    )
    return set(rows.all())


async def opt_out(session: AsyncSession, contact_ids: Iterable[int], now: dt.datetime) -> None:
    """Pending contacts whose number went on the do-not-call list: never dialled."""
    table = CampaignContact.__table__  # type: ignore[attr-defined]
    ids = sorted(set(contact_ids))
    conn = await session.connection()
    for first in range(0, len(ids), CHUNK):
        await conn.execute(
            sa.update(table)
            .where(
                table.c.id.in_(ids[first : first + CHUNK]),
                table.c.state == ContactState.PENDING.value,
            )
            .values(state=ContactState.OPTED_OUT.value, next_attempt_at=None, updated_at=now)
        )


async def open_attempts(session: AsyncSession) -> list[tuple[CampaignAttempt, Any, Any, Any]]:
    """Attempts of this engine's campaigns not ended, each with its call's (ended_at,
    answered_at, hangup_cause) as the call log has them (None while the call lasts or
    was never logged)."""
    rows = await session.exec(
        select(CampaignAttempt, Call.ended_at, Call.answered_at, Call.hangup_cause)
        .join(Campaign, col(Campaign.id) == col(CampaignAttempt.campaign_id))
        .outerjoin(Call, col(Call.linkedid) == col(CampaignAttempt.linkedid))
        .where(
            col(CampaignAttempt.ended_at).is_(None),
            # Agents' calls are the agent dialer's (campaigns/agent_dialer.py): a long
            # conversation with an agent is not an attempt that never reported.
            col(Campaign.kind).in_([k.value for k in ENGINE_KINDS]),
        )
    )
    return [(a, ended, answered, cause) for a, ended, answered, cause in rows.all()]


async def open_by_linkedid(session: AsyncSession, linkedids: Iterable[str]) -> dict[str, Any]:
    """{linkedid: (attempt id, campaign id)} of the attempts of these Linkedids not ended."""
    table = CampaignAttempt.__table__  # type: ignore[attr-defined]
    wanted = sorted(set(linkedids))
    conn = await session.connection()
    out: dict[str, Any] = {}
    for first in range(0, len(wanted), CHUNK):
        rows = await conn.execute(
            sa.select(table.c.linkedid, table.c.id, table.c.campaign_id).where(
                table.c.linkedid.in_(wanted[first : first + CHUNK]), table.c.ended_at.is_(None)
            )
        )
        out.update({str(lid): (int(aid), int(cid)) for lid, aid, cid in rows.all()})
    return out


async def call_ids_of(session: AsyncSession, linkedids: Iterable[str]) -> dict[str, int]:
    """{linkedid: call id} of the call records of these Linkedids (the first of each).
    An ORM query on purpose, not cti/calllog/writer.py's Core twin: its autoflush writes
    the session's pending changes first, and without it the engine's rounds deadlocked
    with the call log writer on PostgreSQL (a different lock order)."""
    wanted = sorted(set(linkedids))
    out: dict[str, int] = {}
    for first in range(0, len(wanted), CHUNK):
        rows = await session.exec(
            select(Call.linkedid, func.min(col(Call.id)))
            .where(col(Call.linkedid).in_(wanted[first : first + CHUNK]))
            .group_by(col(Call.linkedid))
        )
        out.update({str(lid): int(cid) for lid, cid in rows.all() if cid is not None})
    return out


async def ensure_calls(session: AsyncSession, started: Mapping[str, float]) -> dict[str, int]:
    """cti/calllog/writer.py ensure_call for many Linkedids at once {linkedid: started
    (timestamp)}: the id of each one's call record (any node's), a minimal one made on
    the default node where the call log has not written it yet; {linkedid: call id}."""
    found = await call_ids_of(session, started)  # its autoflush first: see call_ids_of
    # Every call held before the first row is written, found ones too (mark_calls updates
    # them next): the call log writer holds its batch's calls the same way, so the two
    # wait for each other instead of deadlocking (writer.py hold_linkedids).
    await hold_linkedids(await session.connection(), started)
    missing = {linkedid: at for linkedid, at in started.items() if linkedid not in found}
    if missing:
        found.update(await ensure_placeholders(await session.connection(), missing))
    return found


async def mark_calls(session: AsyncSession, campaign_id: int, calls: Mapping[int, int]) -> None:
    """The call records {attempt id: call id} are outbound calls of this campaign; each
    attempt points to its call."""
    table = Call.__table__  # type: ignore[attr-defined]
    attempts = CampaignAttempt.__table__  # type: ignore[attr-defined]
    if not calls:
        return
    conn = await session.connection()
    ids = sorted(set(calls.values()))
    for first in range(0, len(ids), CHUNK):
        await conn.execute(
            sa.update(table)
            .where(table.c.id.in_(ids[first : first + CHUNK]))
            .values(campaign_id=campaign_id, direction="out")
        )
    await conn.execute(
        sa.update(attempts)
        .where(attempts.c.id == sa.bindparam("attempt_id"))
        .values(call_id=sa.bindparam("call")),
        [{"attempt_id": a, "call": c} for a, c in calls.items()],
    )


async def mark_unmarked(session: AsyncSession, campaign_of: Mapping[int, int]) -> None:
    """Call records {call id: campaign id} not yet marked as a campaign's (an engine that
    stopped between its Originate and recording the call): outbound of their campaign."""
    table = Call.__table__  # type: ignore[attr-defined]
    by_campaign: dict[int, list[int]] = {}
    for call_id, campaign_id in campaign_of.items():
        by_campaign.setdefault(campaign_id, []).append(call_id)
    conn = await session.connection()
    for campaign_id, ids in by_campaign.items():
        for first in range(0, len(ids), CHUNK):
            await conn.execute(
                sa.update(table)
                .where(table.c.id.in_(ids[first : first + CHUNK]), table.c.campaign_id.is_(None))
                .values(campaign_id=campaign_id, direction="out")
            )


async def counts(session: AsyncSession, campaign_id: int) -> dict[str, int]:
    rows = await session.exec(
        select(CampaignContact.state, func.count())
        .where(col(CampaignContact.campaign_id) == campaign_id)
        .group_by(col(CampaignContact.state))
    )
    return {str(getattr(state, "value", state)): int(n) for state, n in rows.all()}
