"""Call recordings: file metadata, legal hold, and explicit, logged deletion.

A row is never deleted: the retention job removes the file and sets deleted_at,
deleted_by and deletion_reason (and writes audit_log), so what existed stays known.
"""

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.models.base import at_field, big_id_field, enum_field, fk
from db.types import BigId


class RecordingState(StrEnum):
    RECORDING = "recording"
    PAUSED = "paused"
    COMPLETED = "completed"
    MISSING = "missing"  # the file is gone without a deletion record
    CORRUPTED = "corrupted"  # the file no longer matches sha256
    DELETED = "deleted"


class RecordingBase(SQLModel):
    call_id: int | None = Field(default=None, foreign_key="calls.id", sa_type=BigId)
    # Set from the start, so a recording is tied to its call before the call row exists.
    pbx_node: str = Field(default="default", max_length=40)
    linkedid: str = Field(max_length=64, index=True)
    agent_id: int | None = fk("users.id")
    path: str = Field(max_length=500, unique=True)  # relative to recording.root
    format: str = Field(default="wav", max_length=10)
    state: RecordingState = enum_field(RecordingState, RecordingState.RECORDING)
    started_at: dt.datetime = at_field(nullable=False)
    ended_at: dt.datetime | None = at_field()
    duration_seconds: float | None = None
    size_bytes: int | None = Field(default=None, sa_type=sa.BigInteger)
    sha256: str | None = Field(default=None, max_length=64)
    legal_hold: bool = False
    legal_hold_reason: str | None = Field(default=None, max_length=200)
    legal_hold_by_id: int | None = fk("users.id")
    legal_hold_at: dt.datetime | None = at_field()


class Recording(RecordingBase, table=True):
    __tablename__ = "recordings"
    __table_args__ = (
        sa.Index("ix_recordings_call_id", "call_id"),
        sa.Index("ix_recordings_agent_id_started_at", "agent_id", "started_at"),
        # The retention job: undeleted, not held, ended before the cutoff.
        sa.Index(
            "ix_recordings_deleted_at_legal_hold_ended_at", "deleted_at", "legal_hold", "ended_at"
        ),
    )

    id: int | None = big_id_field()
    deleted_at: dt.datetime | None = at_field()
    deleted_by: str | None = Field(default=None, max_length=80)  # "retention" or a username
    deletion_reason: str | None = Field(default=None, max_length=200)
    created_at: dt.datetime = at_field(default_now=True)
