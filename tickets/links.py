"""Calls <-> tickets: links, repeat contacts, and first-contact resolution (FCR).

A call can create several tickets and a ticket can span several calls (ticket_calls).
Relations: created_from (the call that raised the ticket), repeat_call (the customer
called again about an open ticket), follow_up / callback (outbound calls Hotline made),
related (linked by hand).

FCR of an inbound call, stored on calls.first_contact_resolution:
- False if the call is itself a repeat about an open ticket, or if any of its tickets
  later got a repeat call or was reopened (the issue needed another contact);
- True once every ticket linked to the call is resolved (or informed, closed) without
  either of those;
- None (unknown) while one of its tickets is still open, or when no ticket is linked.
Outbound calls (follow-up, callback) never count.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cti.calllog.writer import ensure_call
from db.models import Call, Ticket, TicketCall, TicketState, metadata
from db.phones import normalize_phone
from tickets.lifecycle import OPEN_STATES

INBOUND_RELATIONS = ("created_from", "repeat_call", "related")
TICKET_CALLS: sa.Table = metadata.tables["ticket_calls"]
CALLS: sa.Table = metadata.tables["calls"]
TICKETS: sa.Table = metadata.tables["tickets"]


async def call_id_for(
    session: AsyncSession, *, linkedid: str | None, call_id: int | None
) -> int | None:
    if call_id is not None:
        return call_id
    if linkedid:
        return await ensure_call(session, linkedid)
    return None


async def link(
    session: AsyncSession,
    ticket_id: int,
    call_id: int,
    relation: str,
    user_id: int | None,
) -> bool:
    """Link once; False when the pair was linked already."""
    existing = await session.get(TicketCall, (ticket_id, call_id))
    if existing is not None:
        return False
    session.add(
        TicketCall(ticket_id=ticket_id, call_id=call_id, relation=relation, linked_by_id=user_id)
    )
    await session.flush()
    return True


async def find_open_duplicate(
    session: AsyncSession,
    *,
    category: str,
    customer_id: int | None,
    contact_number: str | None,
) -> Ticket | None:
    """The oldest open, active ticket of this customer (or, for an unidentified caller,
    this contact number) in this category, locked for the repeat contact's changes (a
    raised priority, its trail) until the transaction ends (PostgreSQL)."""
    stmt = select(Ticket).where(
        Ticket.category == category,
        col(Ticket.state).in_(list(OPEN_STATES)),
        Ticket.archived == False,  # noqa: E712 (SQL expression)
    )
    if customer_id is not None:
        stmt = stmt.where(Ticket.customer_id == customer_id)
    elif contact_number and normalize_phone(contact_number):
        stmt = stmt.where(Ticket.contact_number == normalize_phone(contact_number))
    else:
        return None
    found = await session.exec(stmt.order_by(col(Ticket.created_at)).limit(1).with_for_update())
    return found.first()


async def refresh_fcr(session: AsyncSession, ticket_ids: list[int]) -> None:
    """Recompute FCR for every inbound call linked to these tickets."""
    conn = await session.connection()
    calls = await conn.execute(
        sa.select(TICKET_CALLS.c.call_id)
        .where(TICKET_CALLS.c.ticket_id.in_(ticket_ids))
        .where(TICKET_CALLS.c.relation.in_(INBOUND_RELATIONS))
        .distinct()
    )
    for (call_id,) in calls.all():
        value = await _fcr_of(conn, int(call_id))
        await conn.execute(
            sa.update(CALLS).where(CALLS.c.id == call_id).values(first_contact_resolution=value)
        )


async def _fcr_of(conn: AsyncConnection, call_id: int) -> bool | None:
    own = await conn.execute(
        sa.select(
            TICKET_CALLS.c.ticket_id,
            TICKET_CALLS.c.relation,
            TICKETS.c.state,
            TICKETS.c.reopen_count,
        )
        .join(TICKETS, TICKETS.c.id == TICKET_CALLS.c.ticket_id)
        .where(TICKET_CALLS.c.call_id == call_id)
        .where(TICKET_CALLS.c.relation.in_(INBOUND_RELATIONS))
    )
    rows = own.all()
    if not rows:
        return None
    if any(r.relation == "repeat_call" for r in rows):
        return False
    if any(r.reopen_count for r in rows):
        return False
    ticket_ids = [r.ticket_id for r in rows]
    repeats = await conn.execute(
        sa.select(sa.func.count())
        .select_from(TICKET_CALLS)
        .where(TICKET_CALLS.c.ticket_id.in_(ticket_ids))
        .where(TICKET_CALLS.c.relation == "repeat_call")
    )
    if repeats.scalar_one():
        return False
    if all(TicketState(r.state) not in OPEN_STATES for r in rows):
        return True
    return None


async def calls_of(session: AsyncSession, ticket_id: int) -> list[tuple[Call, str]]:
    rows = await session.exec(
        select(Call, TicketCall.relation)
        .join(TicketCall, col(TicketCall.call_id) == col(Call.id))
        .where(TicketCall.ticket_id == ticket_id)
        .order_by(col(Call.started_at))
    )
    return [(c, rel) for c, rel in rows.all()]
