"""Request and response bodies of the tickets feature's HTTP API (tickets/api*.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from db.models import Ticket, TicketEvent, TicketPriority
from tickets.records import snapshot


def _id() -> Any:
    """An optional row id (null allowed)."""
    return Field(None, ge=1, le=2**31 - 1)


class TicketOut(BaseModel):
    id: int
    number: str
    category: str
    priority: str
    state: str
    department: str
    assignee_id: int | None
    customer_id: int | None
    contact_number: str | None
    contact_name: str | None
    subject: str
    description: str
    resolution: str | None
    source: str
    external_ref: str | None
    created_at: str | None
    updated_at: str | None
    response_due_at: str | None
    resolution_due_at: str | None
    responded_at: str | None
    resolved_at: str | None
    closed_at: str | None
    sla_response_met: bool | None
    sla_resolution_met: bool | None
    escalation_level: int
    reopen_count: int
    archived: bool

    @classmethod
    def of(cls, t: Ticket) -> TicketOut:
        return cls.model_validate(snapshot(t))


class TicketCreated(BaseModel):
    ticket: TicketOut
    created: bool  # False: linked to the customer's open ticket (repeat contact)


class TicketCreate(BaseModel):
    category: str = Field(min_length=1, max_length=40)
    subject: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    priority: TicketPriority = TicketPriority.NORMAL
    customer_id: int | None = _id()
    contact_number: str | None = Field(None, max_length=40)
    contact_name: str | None = Field(None, max_length=100)
    department: str | None = Field(None, max_length=40)
    assignee_id: int | None = _id()
    linkedid: str | None = Field(None, max_length=64)  # the call it comes from
    detect_repeat: bool = True


class TicketUpdate(BaseModel):
    subject: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    priority: TicketPriority | None = None
    category: str | None = Field(None, min_length=1, max_length=40)
    customer_id: int | None = _id()
    contact_number: str | None = Field(None, max_length=40)
    contact_name: str | None = Field(None, max_length=100)
    external_ref: str | None = Field(None, max_length=64)


class Assign(BaseModel):
    assignee_id: int | None = _id()  # null: unassign


class Transfer(BaseModel):
    department: str = Field(min_length=1, max_length=40)
    reason: str = Field(min_length=1, max_length=500)


class Transition(BaseModel):
    # An action (start, resolve, inform, close, reopen) or a target state.
    to: str = Field(min_length=1, max_length=20)
    note: str | None = Field(None, max_length=4000)
    resolution: str | None = Field(None, max_length=10_000)


class Note(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)


class CallLink(BaseModel):
    linkedid: str = Field(min_length=1, max_length=64)
    relation: Literal["related", "repeat_call", "callback", "follow_up"] = "related"


class Archive(BaseModel):
    archived: bool = True


class EventOut(BaseModel):
    id: int
    at: dt.datetime
    actor_id: int | None
    actor_name: str
    action: str
    field: str | None
    from_value: str | None
    to_value: str | None
    note: str | None
    data: dict[str, Any]

    @classmethod
    def of(cls, e: TicketEvent) -> EventOut:
        return cls.model_validate(e, from_attributes=True)
