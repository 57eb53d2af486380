"""Follow-up (回访) tasks: created when a follow_up category ticket is resolved, cancelled
when it is reopened by someone else meanwhile. The dialer (followups/dialer.py) works
them off; an agent takes the ones with method `agent`."""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import Customer, FollowUp, FollowUpMethod, FollowUpState, Ticket
from kernel.business_calendar import BusinessCalendar
from kernel.config import Settings

ACTIVE = (FollowUpState.PENDING, FollowUpState.IN_PROGRESS)


async def customer_number(session: AsyncSession, t: Ticket) -> str | None:
    """Where to call: the ticket's contact number, else the customer's primary phone."""
    if t.contact_number:
        return t.contact_number
    if t.customer_id is None:
        return None
    customer = await session.get(Customer, t.customer_id)
    if customer is None or not customer.phones:
        return None
    phones = sorted(customer.phones, key=lambda p: (not p.is_primary, p.id or 0))
    return phones[0].number


async def schedule(
    session: AsyncSession, settings: Settings, t: Ticket, now: dt.datetime
) -> FollowUp | None:
    """A pending follow-up for a just-resolved ticket, unless one is active already."""
    active = await session.exec(
        select(FollowUp).where(FollowUp.ticket_id == t.id, col(FollowUp.state).in_(ACTIVE))
    )
    if active.first() is not None:
        return None
    cfg = settings.tickets.follow_up
    number = await customer_number(session, t)
    method = FollowUpMethod(cfg.method) if number else FollowUpMethod.AGENT
    due = now + dt.timedelta(minutes=cfg.delay_minutes)
    if cfg.business_hours_only:
        due = BusinessCalendar(settings.business_hours, settings.center.timezone).next_open(due)
    task = FollowUp(
        ticket_id=t.id,  # type: ignore[arg-type]
        customer_id=t.customer_id,
        number=number,
        method=method,
        state=FollowUpState.PENDING,
        due_at=due,
        next_attempt_at=due,
        created_at=now,
    )
    session.add(task)
    await session.flush()
    return task


async def cancel_pending(session: AsyncSession, ticket_id: int, now: dt.datetime) -> int:
    rows = await session.exec(
        select(FollowUp).where(
            FollowUp.ticket_id == ticket_id, FollowUp.state == FollowUpState.PENDING
        )
    )
    count = 0
    for task in rows.all():
        task.state = FollowUpState.CANCELLED
        task.completed_at = now
        task.outcome = "ticket_reopened"
        session.add(task)
        count += 1
    return count
