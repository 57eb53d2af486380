"""Plain values the ticket service takes and gives: who acts, what to create, what to
find, and the ticket snapshot carried on the bus and in webhooks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from db.models.tickets import Ticket, TicketPriority, TicketSource, TicketState


@dataclass(frozen=True)
class TicketDraft:
    category: str
    subject: str
    description: str = ""
    priority: TicketPriority | str = TicketPriority.NORMAL
    customer_id: int | None = None
    contact_number: str | None = None
    contact_name: str | None = None
    department: str | None = None  # None: the category's department
    assignee_id: int | None = None
    source: TicketSource = TicketSource.AGENT
    external_ref: str | None = None


@dataclass(frozen=True)
class CreateResult:
    ticket: Ticket
    # False when the contact was a repeat about an open ticket: the call was linked to
    # `ticket` instead of creating a duplicate.
    created: bool


@dataclass(frozen=True)
class TicketQuery:
    number: str | None = None  # exact, or a prefix ending in '*' ("GD20261122-*")
    customer_id: int | None = None
    phone: str | None = None  # the contact number or any phone of the customer
    states: Sequence[TicketState | str] = ()
    category: str | None = None
    department: str | None = None
    assignee_id: int | None = None
    text: str | None = None  # full text, Chinese included
    archived: bool | None = None  # None: archived and active alike
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    limit: int = 50
    offset: int = 0


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def snapshot(t: Ticket) -> dict[str, Any]:
    """The ticket as other features and external systems see it (JSON-safe)."""
    return {
        "id": t.id,
        "number": t.number,
        "category": t.category,
        "priority": TicketPriority(t.priority).value,
        "state": TicketState(t.state).value,
        "department": t.department,
        "assignee_id": t.assignee_id,
        "customer_id": t.customer_id,
        "contact_number": t.contact_number,
        "contact_name": t.contact_name,
        "subject": t.subject,
        "description": t.description,
        "resolution": t.resolution,
        "source": TicketSource(t.source).value,
        "external_ref": t.external_ref,
        "created_at": _iso(t.created_at),
        "updated_at": _iso(t.updated_at),
        "response_due_at": _iso(t.response_due_at),
        "resolution_due_at": _iso(t.resolution_due_at),
        "responded_at": _iso(t.responded_at),
        "resolved_at": _iso(t.resolved_at),
        "closed_at": _iso(t.closed_at),
        "sla_response_met": t.sla_response_met,
        "sla_resolution_met": t.sla_resolution_met,
        "escalation_level": t.escalation_level,
        "reopen_count": t.reopen_count,
        "archived": t.archived,
    }
