"""The workbench's reads: working lists with the filters a department needs (category,
priority, state, SLA state, customer, district, created date) and the SLA state of each
ticket, computed in SQL at one instant so the filter and the badge agree.

SLA state of a ticket at `now` (the running clocks are those not stopped: response until
responded_at, resolution until resolved_at; a done ticket's clocks are stopped):
- breached: a clock was missed (sla_*_met is false) or a running clock is past its deadline;
- warning: not breached, and a running clock is past its warning instant;
- on_time: anything else (including a ticket without SLA).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from customers import lookup
from db.models import Customer, Ticket, TicketPriority, TicketState, User
from db.phones import normalize_phone

OPEN = (TicketState.NEW, TicketState.ASSIGNED, TicketState.IN_PROGRESS)


class SlaState(StrEnum):
    ON_TIME = "on_time"
    WARNING = "warning"
    BREACHED = "breached"


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def sla_expressions(now: dt.datetime) -> tuple[Any, Any]:
    """(breached, warning) as SQL boolean expressions at `now`."""
    is_open = col(Ticket.state).in_(OPEN)
    response_running = sa.and_(is_open, col(Ticket.responded_at).is_(None))
    resolution_running = sa.and_(is_open, col(Ticket.resolved_at).is_(None))
    breached = sa.or_(
        col(Ticket.sla_response_met).is_(False),
        col(Ticket.sla_resolution_met).is_(False),
        sa.and_(response_running, col(Ticket.response_due_at) <= now),
        sa.and_(resolution_running, col(Ticket.resolution_due_at) <= now),
    )
    warning = sa.and_(
        sa.not_(breached),
        sa.or_(
            sa.and_(response_running, col(Ticket.response_warn_at) <= now),
            sa.and_(resolution_running, col(Ticket.resolution_warn_at) <= now),
        ),
    )
    return breached, warning


def sla_state_of(t: Ticket, now: dt.datetime) -> SlaState:
    """The same rule in Python, for one loaded ticket."""
    is_open = TicketState(t.state) in OPEN
    response_running = is_open and t.responded_at is None
    resolution_running = is_open and t.resolved_at is None
    if (
        t.sla_response_met is False
        or t.sla_resolution_met is False
        or (response_running and t.response_due_at is not None and t.response_due_at <= now)
        or (resolution_running and t.resolution_due_at is not None and t.resolution_due_at <= now)
    ):
        return SlaState.BREACHED
    if (response_running and t.response_warn_at is not None and t.response_warn_at <= now) or (
        resolution_running and t.resolution_warn_at is not None and t.resolution_warn_at <= now
    ):
        return SlaState.WARNING
    return SlaState.ON_TIME


def running_deadline(t: Ticket) -> tuple[str | None, dt.datetime | None]:
    """The clock the countdown shows: response until responded, then resolution."""
    if TicketState(t.state) not in OPEN:
        return None, None
    if t.responded_at is None and t.response_due_at is not None:
        return "response", t.response_due_at
    if t.resolved_at is None and t.resolution_due_at is not None:
        return "resolution", t.resolution_due_at
    return None, None


@dataclass(frozen=True)
class WorkQuery:
    department: str | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    categories: Sequence[str] = ()
    priorities: Sequence[TicketPriority] = ()
    states: Sequence[TicketState] = ()
    sla: Sequence[SlaState] = ()
    customer: str | None = None  # name, account number, contact name or phone
    district: str | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    archived: bool = False
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True)
class WorkRow:
    ticket: Ticket
    customer_name: str | None
    district: str | None
    assignee_name: str | None


async def work_list(session: AsyncSession, q: WorkQuery, now: dt.datetime) -> list[WorkRow]:
    assignee = aliased(User)
    stmt = (
        select(Ticket, Customer.name, Customer.district, assignee.display_name)
        .outerjoin(Customer, col(Customer.id) == col(Ticket.customer_id))
        .outerjoin(assignee, col(assignee.id) == col(Ticket.assignee_id))
        .where(Ticket.archived == q.archived)
    )
    if q.department:
        stmt = stmt.where(Ticket.department == q.department)
    if q.assignee_id is not None:
        stmt = stmt.where(Ticket.assignee_id == q.assignee_id)
    if q.unassigned:
        stmt = stmt.where(col(Ticket.assignee_id).is_(None))
    if q.categories:
        stmt = stmt.where(col(Ticket.category).in_(list(q.categories)))
    if q.priorities:
        stmt = stmt.where(col(Ticket.priority).in_(list(q.priorities)))
    if q.states:
        stmt = stmt.where(col(Ticket.state).in_(list(q.states)))
    if q.sla:
        breached, warning = sla_expressions(now)
        wanted = []
        if SlaState.BREACHED in q.sla:
            wanted.append(breached)
        if SlaState.WARNING in q.sla:
            wanted.append(warning)
        if SlaState.ON_TIME in q.sla:
            wanted.append(sa.and_(sa.not_(breached), sa.not_(warning)))
        stmt = stmt.where(sa.or_(*wanted))
    if q.customer and q.customer.strip():
        text = q.customer.strip()
        pattern = _like(text)
        matches = [
            col(Customer.name).ilike(pattern, escape="\\"),
            col(Ticket.contact_name).ilike(pattern, escape="\\"),
            col(Customer.account_number) == text,
        ]
        if sum(ch.isdigit() for ch in text) >= 5:
            number = normalize_phone(text)
            matches.append(col(Ticket.contact_number) == number)
            owners = lookup.owner_ids(number)
            matches.append(col(Ticket.customer_id).in_(owners))
        stmt = stmt.where(or_(*matches))
    if q.district and q.district.strip():
        stmt = stmt.where(Customer.district == q.district.strip())
    if q.created_from is not None:
        stmt = stmt.where(col(Ticket.created_at) >= q.created_from)
    if q.created_to is not None:
        stmt = stmt.where(col(Ticket.created_at) < q.created_to)
    stmt = stmt.order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc())
    rows = await session.exec(stmt.offset(q.offset).limit(q.limit))
    return [WorkRow(t, name, district, who) for t, name, district, who in rows.all()]
