"""The integration gateway's outgoing webhooks: one delivery per (endpoint, event) and a
log of every attempt, so "delivered once, logged" can be shown and audited."""

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.models.base import at_field, big_id_field, enum_field, fk, json_field, text_field
from db.types import BigId


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    RETRY_WAIT = "retry_wait"
    DEAD = "dead"  # retries exhausted


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The event id is the receiver's idempotency key: one delivery per endpoint.
        sa.UniqueConstraint("endpoint", "event_id"),
        sa.Index("ix_webhook_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_ticket_id", "ticket_id"),
    )

    id: int | None = big_id_field()
    endpoint: str = Field(max_length=40)  # the configured target system's name
    url: str = Field(max_length=500)
    event_type: str = Field(max_length=60)  # e.g. ticket.created, ticket.resolved
    event_id: str = Field(max_length=64)
    ticket_id: int | None = fk("tickets.id")
    payload: dict[str, Any] = json_field(dict)
    state: DeliveryState = enum_field(DeliveryState, DeliveryState.PENDING)
    attempts: int = 0
    next_attempt_at: dt.datetime | None = at_field()
    last_attempt_at: dt.datetime | None = at_field()
    last_status_code: int | None = None
    last_error: str | None = text_field()
    created_at: dt.datetime = at_field(default_now=True)
    delivered_at: dt.datetime | None = at_field()


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempts"
    __table_args__ = (sa.Index("ix_webhook_attempts_delivery_id_at", "delivery_id", "at"),)

    id: int | None = big_id_field()
    delivery_id: int = Field(foreign_key="webhook_deliveries.id", sa_type=BigId, nullable=False)
    at: dt.datetime = at_field(default_now=True)
    status_code: int | None = None
    error: str | None = text_field()
    duration_ms: float | None = None
