"""The campaigns API's SQL (SQLAlchemy Core over db/models/campaigns.py): campaigns,
their contacts and counts, customers of a filter, the do-not-call list, results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import metadata
from db.models.campaigns import AttemptOutcome, ContactState

CAMPAIGNS: sa.Table = metadata.tables["campaigns"]
CONTACTS: sa.Table = metadata.tables["campaign_contacts"]
ATTEMPTS: sa.Table = metadata.tables["campaign_attempts"]
DNC: sa.Table = metadata.tables["do_not_call"]
CUSTOMERS: sa.Table = metadata.tables["customers"]
PHONES: sa.Table = metadata.tables["customer_phones"]
TICKETS: sa.Table = metadata.tables["tickets"]
NOTICES: sa.Table = metadata.tables["notices"]
USERS: sa.Table = metadata.tables["users"]
CALLS: sa.Table = metadata.tables["calls"]
OPEN_TICKET_STATES = ("new", "assigned", "in_progress")
NOT_FINAL = (ContactState.PENDING.value, ContactState.DIALING.value)
BATCH = 1000


async def campaign(conn: AsyncConnection, campaign_id: int) -> dict[str, Any] | None:
    row = (await conn.execute(sa.select(CAMPAIGNS).where(CAMPAIGNS.c.id == campaign_id))).first()
    return dict(row._mapping) if row else None


async def campaigns(conn: AsyncConnection, limit: int = 500) -> list[dict[str, Any]]:
    stmt = sa.select(CAMPAIGNS).order_by(CAMPAIGNS.c.id.desc()).limit(limit)
    return [dict(r._mapping) for r in await conn.execute(stmt)]


async def state_counts(
    conn: AsyncConnection, campaign_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """{campaign: {contact state: n}}."""
    if not campaign_ids:
        return {}
    stmt = (
        sa.select(CONTACTS.c.campaign_id, CONTACTS.c.state, sa.func.count())
        .where(CONTACTS.c.campaign_id.in_(campaign_ids))
        .group_by(CONTACTS.c.campaign_id, CONTACTS.c.state)
    )
    out: dict[int, dict[str, int]] = {}
    for cid, state, n in await conn.execute(stmt):
        out.setdefault(cid, {})[str(state)] = int(n)
    return out


async def contact_totals(conn: AsyncConnection, campaign_id: int) -> dict[str, int]:
    """Contacts, reached (answered), confirmed, opted out, attempts made."""
    c = CONTACTS.c
    reached = sa.or_(c.last_outcome == AttemptOutcome.ANSWERED.value, c.state == "done")
    opted = sa.or_(c.opted_out.is_(True), c.state == ContactState.OPTED_OUT.value)
    stmt = sa.select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(sa.case((reached, 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((c.confirmed.is_(True), 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((opted, 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(c.attempts), 0),
    ).where(c.campaign_id == campaign_id)
    total, reach, confirmed, opted_out, attempts = (await conn.execute(stmt)).one()
    return {
        "contacts": int(total),
        "reached": int(reach),
        "confirmed": int(confirmed),
        "opted_out": int(opted_out),
        "attempts": int(attempts),
    }


async def outcome_counts(conn: AsyncConnection, campaign_id: int) -> dict[str, int]:
    """Contacts by their last attempt's outcome."""
    stmt = (
        sa.select(CONTACTS.c.last_outcome, sa.func.count())
        .where(CONTACTS.c.campaign_id == campaign_id, CONTACTS.c.last_outcome.is_not(None))
        .group_by(CONTACTS.c.last_outcome)
    )
    return {str(o): int(n) for o, n in await conn.execute(stmt)}


def dialled() -> Any:
    """Attempts that were dialled: not a claim given back before its dial (closed with no
    outcome, campaigns/attempts.py release_attempts), which is not an attempt."""
    return sa.or_(ATTEMPTS.c.outcome.is_not(None), ATTEMPTS.c.ended_at.is_(None))


async def attempts_by_outcome(conn: AsyncConnection, campaign_id: int) -> dict[str, int]:
    outcome = sa.func.coalesce(ATTEMPTS.c.outcome, "in_progress", type_=sa.String)
    stmt = (
        sa.select(outcome, sa.func.count())
        .where(ATTEMPTS.c.campaign_id == campaign_id, dialled())
        .group_by(outcome)
    )
    return {str(o): int(n) for o, n in await conn.execute(stmt)}


async def answers(conn: AsyncConnection, campaign_id: int) -> list[dict[str, Any]]:
    stmt = sa.select(CONTACTS.c.answers).where(CONTACTS.c.campaign_id == campaign_id)
    return [dict(a or {}) for (a,) in await conn.execute(stmt)]


def _contacts_select() -> sa.Select[Any]:
    c = CONTACTS.c
    return (
        sa.select(
            CONTACTS,
            USERS.c.display_name.label("agent_name"),
            CALLS.c.linkedid.label("call_linkedid"),
            TICKETS.c.number.label("ticket_number"),
        )
        .select_from(
            CONTACTS.outerjoin(USERS, USERS.c.id == c.agent_id)
            .outerjoin(CALLS, CALLS.c.id == c.last_call_id)
            .outerjoin(TICKETS, TICKETS.c.id == c.ticket_id)
        )
        .order_by(c.id)
    )


async def contacts(
    conn: AsyncConnection,
    campaign_id: int,
    state: str | None = None,
    limit: int | None = 200,
    offset: int = 0,
) -> list[dict[str, Any]]:
    stmt = _contacts_select().where(CONTACTS.c.campaign_id == campaign_id)
    if state:
        stmt = stmt.where(CONTACTS.c.state == state)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return [dict(r._mapping) for r in await conn.execute(stmt)]


async def numbers_in(conn: AsyncConnection, campaign_id: int) -> set[str]:
    stmt = sa.select(CONTACTS.c.number).where(CONTACTS.c.campaign_id == campaign_id)
    return {n for (n,) in await conn.execute(stmt)}


async def blocked(conn: AsyncConnection, numbers: Iterable[str]) -> set[str]:
    """Of these numbers, the ones on the do-not-call list (not lifted)."""
    wanted = list(dict.fromkeys(numbers))
    out: set[str] = set()
    for i in range(0, len(wanted), BATCH):
        stmt = sa.select(DNC.c.number).where(
            DNC.c.number.in_(wanted[i : i + BATCH]), DNC.c.lifted_at.is_(None)
        )
        out.update(n for (n,) in await conn.execute(stmt))
    return out


async def customers_of_numbers(conn: AsyncConnection, numbers: Sequence[str]) -> dict[str, int]:
    """{number: customer id} for numbers that belong to exactly one customer."""
    found: dict[str, set[int]] = {}
    for i in range(0, len(numbers), BATCH):
        stmt = sa.select(PHONES.c.number, PHONES.c.customer_id).where(
            PHONES.c.number.in_(numbers[i : i + BATCH])
        )
        for number, cid in await conn.execute(stmt):
            found.setdefault(number, set()).add(int(cid))
    return {n: next(iter(ids)) for n, ids in found.items() if len(ids) == 1}


async def filtered_customers(
    conn: AsyncConnection,
    *,
    district: str | None,
    tier: str | None,
    arrears_above: Any,
    ticket_category: str | None,
) -> list[dict[str, Any]]:
    c = CUSTOMERS.c
    stmt = sa.select(c.id, c.name, c.account_number, c.arrears, c.balance, c.district).order_by(
        c.id
    )
    if district:
        stmt = stmt.where(c.district == district)
    if tier:
        stmt = stmt.where(c.tier == tier)
    if arrears_above is not None:
        stmt = stmt.where(c.arrears > arrears_above)
    if ticket_category:
        stmt = stmt.where(
            sa.exists().where(
                TICKETS.c.customer_id == c.id,
                TICKETS.c.category == ticket_category,
                TICKETS.c.state.in_(OPEN_TICKET_STATES),
            )
        )
    return [dict(r._mapping) for r in await conn.execute(stmt)]


async def primary_phones(conn: AsyncConnection, customer_ids: Sequence[int]) -> dict[int, str]:
    """{customer: its primary phone (else its first)}."""
    out: dict[int, str] = {}
    p = PHONES.c
    for i in range(0, len(customer_ids), BATCH):
        stmt = (
            sa.select(p.customer_id, p.number)
            .where(p.customer_id.in_(customer_ids[i : i + BATCH]))
            .order_by(p.customer_id, p.is_primary.desc(), p.id)
        )
        for cid, number in await conn.execute(stmt):
            out.setdefault(int(cid), number)
    return out


async def active_outages(
    conn: AsyncConnection, district: str, now: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime | None]]:
    n = NOTICES.c
    stmt = (
        sa.select(n.valid_from, n.valid_to)
        .where(
            n.kind == "outage",
            n.withdrawn_at.is_(None),
            sa.or_(n.district == district, n.district.is_(None)),
            sa.or_(n.valid_to.is_(None), n.valid_to > now),
        )
        .order_by(n.district.is_(None), n.valid_from)
    )
    return [(a, b) for a, b in await conn.execute(stmt)]


async def insert_contacts(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), BATCH):
        await conn.execute(CONTACTS.insert(), rows[i : i + BATCH])


async def set_state(
    conn: AsyncConnection,
    campaign_id: int,
    allowed: Sequence[str],
    values: dict[str, Any],
) -> bool:
    """Move the campaign when it is in one of `allowed` (one statement: the engine may
    move it at the same time)."""
    stmt = (
        sa.update(CAMPAIGNS)
        .where(CAMPAIGNS.c.id == campaign_id, CAMPAIGNS.c.state.in_(allowed))
        .values(**values)
    )
    result = await conn.execute(stmt)
    return bool(result.rowcount)


async def cancel_open_contacts(conn: AsyncConnection, campaign_id: int, now: dt.datetime) -> int:
    stmt = (
        sa.update(CONTACTS)
        .where(CONTACTS.c.campaign_id == campaign_id, CONTACTS.c.state.in_(NOT_FINAL))
        .values(state=ContactState.CANCELLED.value, next_attempt_at=None, updated_at=now)
    )
    return int((await conn.execute(stmt)).rowcount or 0)


async def attempts_between(
    conn: AsyncConnection, start: dt.datetime, end: dt.datetime, campaign_id: int | None
) -> list[tuple[int, dt.datetime, str | None, bool]]:
    """(campaign, started_at, outcome, contact confirmed) of attempts started in [start, end)."""
    a = ATTEMPTS.c
    stmt = (
        sa.select(a.campaign_id, a.started_at, a.outcome, CONTACTS.c.confirmed)
        .select_from(ATTEMPTS.join(CONTACTS, CONTACTS.c.id == a.contact_id))
        .where(a.started_at >= start, a.started_at < end, dialled())
    )
    if campaign_id is not None:
        stmt = stmt.where(a.campaign_id == campaign_id)
    return [
        (int(cid), at, None if o is None else str(o), bool(ok))
        for cid, at, o, ok in await conn.execute(stmt)
    ]


async def campaign_names(conn: AsyncConnection, ids: Iterable[int]) -> dict[int, str]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    stmt = sa.select(CAMPAIGNS.c.id, CAMPAIGNS.c.name).where(CAMPAIGNS.c.id.in_(wanted))
    return {int(i): n for i, n in await conn.execute(stmt)}


async def dnc_entries(
    conn: AsyncConnection, *, include_lifted: bool, number: str | None, limit: int
) -> list[dict[str, Any]]:
    stmt = sa.select(DNC).order_by(DNC.c.id.desc()).limit(limit)
    if not include_lifted:
        stmt = stmt.where(DNC.c.lifted_at.is_(None))
    if number:
        stmt = stmt.where(DNC.c.number == number)
    return [dict(r._mapping) for r in await conn.execute(stmt)]


async def dnc_entry(conn: AsyncConnection, entry_id: int) -> dict[str, Any] | None:
    row = (await conn.execute(sa.select(DNC).where(DNC.c.id == entry_id))).first()
    return dict(row._mapping) if row else None
