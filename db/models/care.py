"""The customer care loop: surveys, callback requests (virtual hold), follow-ups (回访)."""

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.models.base import at_field, enum_field, fk, id_field, text_field
from db.types import BigId


class SurveyMethod(StrEnum):
    PHONE = "phone"  # an outbound follow-up call
    IVR = "ivr"  # post-call survey by keypad
    VISIT = "visit"
    AGENT = "agent"  # asked by an agent


class CallbackState(StrEnum):
    PENDING = "pending"  # keeping the caller's place in line
    DIALING = "dialing"
    CONNECTED = "connected"
    RETRY_WAIT = "retry_wait"
    COMPLETED = "completed"
    FAILED = "failed"  # retries exhausted (see ticket_id)
    CANCELLED = "cancelled"


class FollowUpState(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class FollowUpMethod(StrEnum):
    AUTO_CALL = "auto_call"  # Hotline calls and runs the keypad survey
    AGENT = "agent"  # queued for an agent


class SurveyBase(SQLModel):
    call_id: int | None = Field(default=None, foreign_key="calls.id", sa_type=BigId)
    ticket_id: int | None = fk("tickets.id")
    agent_id: int | None = fk("users.id")
    customer_id: int | None = fk("customers.id")
    follow_up_id: int | None = fk("follow_ups.id")
    method: SurveyMethod = enum_field(SurveyMethod)
    rating: int | None = Field(default=None, ge=1, le=5)  # None: hung up before rating
    resolved: bool | None = None
    comments: str | None = text_field()


class Survey(SurveyBase, table=True):
    __tablename__ = "surveys"
    __table_args__ = (
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_1_to_5"),
        sa.Index("ix_surveys_at", "at"),
        sa.Index("ix_surveys_agent_id_at", "agent_id", "at"),
        sa.Index("ix_surveys_ticket_id", "ticket_id"),
        sa.Index("ix_surveys_call_id", "call_id"),
    )

    id: int | None = id_field()
    at: dt.datetime = at_field(default_now=True)


class CallbackRequestBase(SQLModel):
    number: str = Field(max_length=40)
    customer_id: int | None = fk("customers.id")
    skill: str = Field(max_length=40)
    priority: int = 0
    language: str | None = Field(default=None, max_length=8)
    # When the caller first queued: their place in line is kept from this instant.
    original_enqueued_at: dt.datetime = at_field(nullable=False)
    state: CallbackState = enum_field(CallbackState, CallbackState.PENDING)
    attempts: int = 0
    next_attempt_at: dt.datetime | None = at_field()
    outcome: str | None = Field(default=None, max_length=80)
    origin_call_id: int | None = Field(default=None, foreign_key="calls.id", sa_type=BigId)
    last_call_id: int | None = Field(default=None, foreign_key="calls.id", sa_type=BigId)
    agent_id: int | None = fk("users.id")
    ticket_id: int | None = fk("tickets.id")  # created when the customer stays unreachable


class CallbackRequest(CallbackRequestBase, table=True):
    __tablename__ = "callback_requests"
    __table_args__ = (
        sa.Index("ix_callback_requests_state_next_attempt_at", "state", "next_attempt_at"),
        sa.Index("ix_callback_requests_created_at", "created_at"),
    )

    id: int | None = id_field()
    created_at: dt.datetime = at_field(default_now=True)
    updated_at: dt.datetime = at_field(default_now=True)


class FollowUpBase(SQLModel):
    ticket_id: int = fk("tickets.id", nullable=False)
    customer_id: int | None = fk("customers.id")
    number: str | None = Field(default=None, max_length=40)
    method: FollowUpMethod = enum_field(FollowUpMethod, FollowUpMethod.AUTO_CALL)
    state: FollowUpState = enum_field(FollowUpState, FollowUpState.PENDING)
    due_at: dt.datetime = at_field(nullable=False)
    attempts: int = 0
    next_attempt_at: dt.datetime | None = at_field()
    call_id: int | None = Field(default=None, foreign_key="calls.id", sa_type=BigId)
    agent_id: int | None = fk("users.id")
    outcome: str | None = Field(default=None, max_length=80)


class FollowUp(FollowUpBase, table=True):
    __tablename__ = "follow_ups"
    __table_args__ = (
        sa.Index("ix_follow_ups_state_due_at", "state", "due_at"),
        sa.Index("ix_follow_ups_ticket_id", "ticket_id"),
    )

    id: int | None = id_field()
    created_at: dt.datetime = at_field(default_now=True)
    completed_at: dt.datetime | None = at_field()
