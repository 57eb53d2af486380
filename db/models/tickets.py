"""Work orders (工单): tickets, their append-only audit trail, and links to calls.

Tickets are never deleted nor archived away: `archived` only hides a ticket from working
lists (the migration adds a trigger refusing DELETE). ticket_events is append-only (a
trigger refuses UPDATE and DELETE): who did what, when, from which value to which.
Category and department names come from config.yaml (`tickets.categories/departments`).
"""

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from db.models.base import (
    NO_LAZY,
    at_field,
    big_id_field,
    enum_field,
    fk,
    id_field,
    json_field,
    text_field,
)
from db.types import BigId


class TicketState(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    INFORMED = "informed"  # the customer was told the result
    CLOSED = "closed"


class TicketPriority(StrEnum):
    """Same names as config's TicketPriority (SLA hours are per category × priority)."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TicketSource(StrEnum):
    AGENT = "agent"  # created by an agent, usually from a call
    IVR = "ivr"  # self-service fault report, no agent involved
    INTEGRATION = "integration"  # billing, repair dispatch, office systems
    WEB = "web"
    SYSTEM = "system"  # e.g. an unreachable callback turned into a ticket


class TicketBase(SQLModel):
    category: str = Field(max_length=40)
    priority: TicketPriority = enum_field(TicketPriority, TicketPriority.NORMAL)
    state: TicketState = enum_field(TicketState, TicketState.NEW)
    department: str = Field(max_length=40)
    assignee_id: int | None = fk("users.id")
    customer_id: int | None = fk("customers.id")
    contact_number: str | None = Field(default=None, max_length=40)
    contact_name: str | None = Field(default=None, max_length=100)
    subject: str = Field(max_length=200)
    description: str = text_field("")
    resolution: str | None = text_field()
    source: TicketSource = enum_field(TicketSource, TicketSource.AGENT)
    external_ref: str | None = Field(default=None, max_length=64)  # id in another system


class Ticket(TicketBase, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        sa.Index("ix_tickets_state_response_due_at", "state", "response_due_at"),
        sa.Index("ix_tickets_state_resolution_due_at", "state", "resolution_due_at"),
        sa.Index("ix_tickets_customer_id_created_at", "customer_id", "created_at"),
        sa.Index("ix_tickets_assignee_id_state", "assignee_id", "state"),
        sa.Index("ix_tickets_department_state", "department", "state"),
        sa.Index("ix_tickets_category_created_at", "category", "created_at"),
        sa.Index("ix_tickets_created_at", "created_at"),
    )

    id: int | None = id_field()
    # Human-readable, e.g. GD20261122-000123 (see db.ticket_numbers).
    number: str = Field(max_length=24, unique=True)
    created_by_id: int | None = fk("users.id")  # None: IVR, integration or system
    created_at: dt.datetime = at_field(default_now=True)
    updated_at: dt.datetime = at_field(default_now=True)
    response_due_at: dt.datetime | None = at_field()
    resolution_due_at: dt.datetime | None = at_field()
    responded_at: dt.datetime | None = at_field()
    resolved_at: dt.datetime | None = at_field()
    informed_at: dt.datetime | None = at_field()
    closed_at: dt.datetime | None = at_field()
    sla_response_met: bool | None = None
    sla_resolution_met: bool | None = None
    escalation_level: int = 0
    # SLA clock bookkeeping (tickets/sla_policy.py, revision 0003): warning instants, the
    # start of the running resolution clock (a reopen restarts it), the highest stage
    # already reported per clock, and the next instant the SLA monitor must look.
    response_warn_at: dt.datetime | None = at_field()
    resolution_warn_at: dt.datetime | None = at_field()
    resolution_started_at: dt.datetime | None = at_field()
    sla_response_stage: int = 0
    sla_resolution_stage: int = 0
    sla_next_at: dt.datetime | None = at_field(index=True)
    reopen_count: int = 0
    archived: bool = False
    archived_at: dt.datetime | None = at_field()

    events: list["TicketEvent"] = Relationship(sa_relationship_kwargs=NO_LAZY)


class TicketEvent(SQLModel, table=True):
    """One entry of a ticket's audit trail. Never updated, never deleted."""

    __tablename__ = "ticket_events"
    __table_args__ = (sa.Index("ix_ticket_events_ticket_id_at", "ticket_id", "at"),)

    id: int | None = big_id_field()
    ticket_id: int = fk("tickets.id", nullable=False)
    at: dt.datetime = at_field(default_now=True)
    actor_id: int | None = fk("users.id")  # None: system, IVR or an integration
    actor_name: str = Field(default="system", max_length=80)  # kept even if a user is renamed
    # created, assigned, state_changed, transferred, commented, updated, linked_call,
    # sla_warning, sla_breached, escalated, reopened, archived, ...
    action: str = Field(max_length=40)
    field: str | None = Field(default=None, max_length=40)
    from_value: str | None = text_field()
    to_value: str | None = text_field()
    note: str | None = text_field()  # e.g. the reason of a transfer
    data: dict[str, Any] = json_field(dict)


class TicketCall(SQLModel, table=True):
    """Many-to-many: a call can create several tickets, a ticket can span several calls."""

    __tablename__ = "ticket_calls"
    __table_args__ = (sa.Index("ix_ticket_calls_call_id", "call_id"),)

    ticket_id: int = Field(foreign_key="tickets.id", primary_key=True)
    call_id: int = Field(foreign_key="calls.id", primary_key=True, sa_type=BigId)
    # created_from, repeat_call, follow_up, callback, ...
    relation: str = Field(default="created_from", max_length=20)
    linked_at: dt.datetime = at_field(default_now=True)
    linked_by_id: int | None = fk("users.id")


class TicketSequence(SQLModel, table=True):
    """Per-day counters behind ticket numbers (see db.ticket_numbers)."""

    __tablename__ = "ticket_sequences"

    day: str = Field(primary_key=True, max_length=8)  # YYYYMMDD in the center's timezone
    last: int = 0
