"""The call log: one row per call (Asterisk Linkedid per PBX node) and its timeline.

A call row may be written when the call starts (disposition in_progress, so live calls
are queryable) and completed when it ends; (pbx_node, linkedid) is unique so a writer
that sees the same call twice (resync after a reconnect) updates instead of duplicating.
Disposition and Direction are kernel/calls.py's, shared with the call tracker.
"""

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from db.models.base import (
    NO_LAZY,
    at_field,
    big_id_field,
    enum_field,
    fk,
    json_field,
)
from db.types import BigId
from kernel.calls import Direction, Disposition


class CallBase(SQLModel):
    pbx_node: str = Field(default="default", max_length=40)
    linkedid: str = Field(max_length=64)
    direction: Direction = enum_field(Direction, Direction.INBOUND)
    caller_number: str = Field(default="", max_length=40)
    caller_name: str | None = Field(default=None, max_length=80)
    dialed_number: str = Field(default="", max_length=40)
    started_at: dt.datetime = at_field(nullable=False)
    ivr_ended_at: dt.datetime | None = at_field()
    queued_at: dt.datetime | None = at_field()
    offered_at: dt.datetime | None = at_field()
    answered_at: dt.datetime | None = at_field()
    ended_at: dt.datetime | None = at_field()
    ivr_path: list[str] = json_field()
    self_service_outcome: str | None = Field(default=None, max_length=40)
    skill: str | None = Field(default=None, max_length=40)
    queue: str | None = Field(default=None, max_length=40)
    priority: int = 0
    tier: str | None = Field(default=None, max_length=1)  # the customer's tier at call time
    language: str | None = Field(default=None, max_length=8)
    customer_id: int | None = fk("customers.id")
    agent_id: int | None = fk("users.id")  # the first agent who answered
    agents: list[str] = json_field()  # extensions of every agent who answered, in order
    agent_talk: dict[str, float] = json_field(dict)  # extension -> seconds talking
    offers: int = 0
    no_answers: int = 0
    wait_seconds: float = 0.0
    talk_seconds: float = 0.0
    hold_seconds: float = 0.0
    wrap_seconds: float = 0.0
    wrap_code: str | None = Field(default=None, max_length=40)
    disposition: Disposition = enum_field(Disposition, Disposition.IN_PROGRESS)
    hangup_cause: str | None = Field(default=None, max_length=16)  # Q.850 code
    hangup_cause_text: str | None = Field(default=None, max_length=80)
    transfers: int = 0
    # The call's (main) recording; recordings.call_id points back, hence use_alter.
    recording_id: int | None = Field(
        default=None,
        sa_type=BigId,
        sa_column_args=[sa.ForeignKey("recordings.id", use_alter=True)],
    )
    first_contact_resolution: bool | None = None  # derived from ticket links; None = unknown
    # seq of the newest tracker event applied (cti.events): an older or repeated event,
    # redelivered by the bus, never overwrites a newer state. 64-bit: seq carries the
    # bridge session's generation (cti/sequence.py).
    last_seq: int = Field(default=0, sa_type=BigId)


class Call(CallBase, table=True):
    __tablename__ = "calls"
    __table_args__ = (
        sa.UniqueConstraint("pbx_node", "linkedid"),
        # Reports over a year of calls read by interval, per queue and per agent.
        sa.Index("ix_calls_started_at", "started_at"),
        sa.Index("ix_calls_queue_started_at", "queue", "started_at"),
        sa.Index("ix_calls_agent_started_at", "agent_id", "started_at"),
        sa.Index("ix_calls_customer_started_at", "customer_id", "started_at"),
        sa.Index("ix_calls_caller_started_at", "caller_number", "started_at"),
        sa.Index("ix_calls_disposition_started_at", "disposition", "started_at"),
        sa.Index("ix_calls_campaign_id", "campaign_id"),
    )

    id: int | None = big_id_field()
    updated_at: dt.datetime = at_field(default_now=True)
    # The outbound campaign that placed this call (campaigns/), None for every other call.
    campaign_id: int | None = fk("campaigns.id")

    events: list["CallEvent"] = Relationship(sa_relationship_kwargs=NO_LAZY)


class CallEvent(SQLModel, table=True):
    """One step of a call's timeline (IVR step, queued, offered, answered, held, ...)."""

    __tablename__ = "call_events"
    __table_args__ = (
        sa.Index("ix_call_events_call_id_at", "call_id", "at"),
        # One row per tracker event: a redelivered event is not written twice.
        sa.Index("uq_call_events_call_id_seq", "call_id", "seq", unique=True),
    )

    id: int | None = big_id_field()
    call_id: int = Field(foreign_key="calls.id", sa_type=BigId, nullable=False)
    # The tracker's per-call sequence number (64-bit, cti/sequence.py); None for other sources.
    seq: int | None = Field(default=None, sa_type=BigId)
    at: dt.datetime = at_field(nullable=False)
    kind: str = Field(max_length=40)
    data: dict[str, Any] = json_field(dict)


class CelCursor(SQLModel, table=True):
    """How far the CTI bridge has read Asterisk's CEL store for one PBX node
    (cti/cel/): rows up to `last_id` belong to calls the call log already holds, so a
    resync reads only what came after. `store` names the store the id belongs to (its URL
    without credentials); ids of another store mean nothing, so a change starts afresh."""

    __tablename__ = "cel_cursors"

    pbx_node: str = Field(primary_key=True, max_length=40)
    store: str = Field(max_length=200)
    last_id: int = Field(default=0, sa_type=sa.BigInteger, nullable=False)
    updated_at: dt.datetime = at_field(default_now=True)
