"""The 360° customer file and the pieces a screen-pop shows (open tickets, recent calls).

Read-only queries over db/ tables. Who may read a file, and the audit of that read, are
the caller's business (desk/); nothing here knows about users.
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from customers.views import (
    CallSummary,
    CustomerDetails,
    CustomerFile,
    SurveySummary,
    TicketSummary,
)
from db.models import Call, Customer, Survey, Ticket, TicketState
from db.phones import normalize_phone

OPEN_TICKET_STATES = (TicketState.NEW, TicketState.ASSIGNED, TicketState.IN_PROGRESS)


class CustomerNotFound(LookupError):
    def __init__(self, customer_id: int) -> None:
        self.customer_id = customer_id
        super().__init__(f"customer {customer_id} not found")


async def get_customer(session: AsyncSession, customer_id: int) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound(customer_id)
    return customer


async def open_tickets(
    session: AsyncSession, customer_id: int, limit: int = 10
) -> list[TicketSummary]:
    stmt = (
        select(Ticket)
        .where(
            Ticket.customer_id == customer_id,
            col(Ticket.state).in_(list(OPEN_TICKET_STATES)),
            Ticket.archived == False,  # noqa: E712 (SQL expression)
        )
        .order_by(col(Ticket.created_at).desc())
        .limit(limit)
    )
    return [TicketSummary.of(t) for t in (await session.exec(stmt)).all()]


async def recent_tickets(
    session: AsyncSession, customer_id: int, limit: int = 10
) -> list[TicketSummary]:
    stmt = (
        select(Ticket)
        .where(Ticket.customer_id == customer_id)
        .order_by(col(Ticket.created_at).desc())
        .limit(limit)
    )
    return [TicketSummary.of(t) for t in (await session.exec(stmt)).all()]


async def recent_calls(
    session: AsyncSession,
    *,
    customer_id: int | None = None,
    number: str | None = None,
    limit: int = 10,
    offset: int = 0,
    exclude_linkedid: str | None = None,
) -> list[CallSummary]:
    """Calls of a customer, or from a number (an unknown caller's own history)."""
    stmt = select(Call)
    if customer_id is not None:
        stmt = stmt.where(Call.customer_id == customer_id)
    elif number and normalize_phone(number):
        stmt = stmt.where(Call.caller_number == normalize_phone(number))
    else:
        return []
    if exclude_linkedid:
        stmt = stmt.where(Call.linkedid != exclude_linkedid)
    stmt = stmt.order_by(col(Call.started_at).desc()).offset(offset).limit(limit)
    return [CallSummary.of(c) for c in (await session.exec(stmt)).all()]


async def surveys(session: AsyncSession, customer_id: int, limit: int = 10) -> list[SurveySummary]:
    stmt = (
        select(Survey)
        .where(Survey.customer_id == customer_id)
        .order_by(col(Survey.at).desc())
        .limit(limit)
    )
    return [SurveySummary.of(s) for s in (await session.exec(stmt)).all()]


async def customer_file(
    session: AsyncSession, customer_id: int, *, limit: int = 10
) -> CustomerFile:
    customer = await get_customer(session, customer_id)
    rated = await surveys(session, customer_id, limit)
    ratings = [s.rating for s in rated if s.rating is not None]
    return CustomerFile(
        customer=CustomerDetails.of(customer),
        open_tickets=await open_tickets(session, customer_id, limit),
        recent_tickets=await recent_tickets(session, customer_id, limit),
        recent_calls=await recent_calls(session, customer_id=customer_id, limit=limit),
        surveys=rated,
        average_rating=round(sum(ratings) / len(ratings), 2) if ratings else None,
    )
