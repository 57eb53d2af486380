"""Who read or did what, and when: sensitive reads (customer files, recordings) and
actions (supervisor actions, role changes, deletions by the retention job).

Append-only: the migration adds triggers refusing UPDATE and DELETE.
"""

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.models.base import at_field, big_id_field, fk, json_field


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_at", "at"),
        sa.Index("ix_audit_log_object_type_object_id", "object_type", "object_id"),
        sa.Index("ix_audit_log_actor_id_at", "actor_id", "at"),
    )

    id: int | None = big_id_field()
    at: dt.datetime = at_field(default_now=True)
    actor_id: int | None = fk("users.id")  # None: the system (e.g. retention job)
    actor_name: str = Field(default="system", max_length=80)
    actor_role: str | None = Field(default=None, max_length=20)
    action: str = Field(max_length=60)  # e.g. customer.read, recording.play, agent.barge
    object_type: str = Field(max_length=40)
    object_id: str = Field(default="", max_length=64)
    source: str | None = Field(default=None, max_length=64)  # client address or component
    detail: dict[str, Any] = json_field(dict)
