"""Quality inspection (qa/): scores of calls against a scoring form, the calls sampled
for inspection each week, and supervisors' ratings of agents.

Scores and ratings are append-only (the migration adds triggers refusing UPDATE and
DELETE): a correction is a new score naming the one it supersedes. Samples are never
deleted; their state moves pending -> done when a score is given.
"""

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.models.base import at_field, enum_field, fk, id_field, json_field, text_field
from db.types import BigId


class SampleState(StrEnum):
    PENDING = "pending"
    DONE = "done"


class QaSample(SQLModel, table=True):
    """One call drawn for inspection (qa/sampling.py): a call is drawn at most once."""

    __tablename__ = "qa_samples"
    __table_args__ = (
        sa.UniqueConstraint("call_id"),
        sa.Index("ix_qa_samples_week_agent_id", "week", "agent_id"),
        sa.Index("ix_qa_samples_state_week", "state", "week"),
    )

    id: int | None = id_field()
    week: str = Field(max_length=8)  # ISO week, "2026-W49"
    agent_id: int = fk("users.id", nullable=False)
    call_id: int = Field(foreign_key="calls.id", sa_type=BigId, nullable=False)
    recording_id: int | None = Field(default=None, foreign_key="recordings.id", sa_type=BigId)
    state: SampleState = enum_field(SampleState, SampleState.PENDING)
    drawn_by_id: int | None = fk("users.id")
    drawn_at: dt.datetime = at_field(default_now=True)
    done_at: dt.datetime | None = at_field()


class QaScore(SQLModel, table=True):
    """An inspector's score of one call: answers per criterion, fatal errors, total."""

    __tablename__ = "qa_scores"
    __table_args__ = (
        sa.Index("ix_qa_scores_agent_id_created_at", "agent_id", "created_at"),
        sa.Index("ix_qa_scores_call_id", "call_id"),
        # A score is superseded once: two corrections of the same score, one is refused.
        sa.Index("ix_qa_scores_supersedes_id", "supersedes_id", unique=True),
        sa.CheckConstraint("total >= 0 AND total <= 100", name="total_0_to_100"),
    )

    id: int | None = id_field()
    call_id: int = Field(foreign_key="calls.id", sa_type=BigId, nullable=False)
    linkedid: str = Field(max_length=64)
    recording_id: int | None = Field(default=None, foreign_key="recordings.id", sa_type=BigId)
    agent_id: int = fk("users.id", nullable=False)
    inspector_id: int = fk("users.id", nullable=False)
    sample_id: int | None = fk("qa_samples.id")
    form_key: str = Field(max_length=40)
    answers: dict[str, Any] = json_field(dict)  # criterion key -> points
    fatal: list[str] = json_field()  # fatal error keys found
    total: float  # 0-100
    comment: str | None = text_field()
    supersedes_id: int | None = fk("qa_scores.id")  # the score this one corrects
    created_at: dt.datetime = at_field(default_now=True)


class SupervisorRating(SQLModel, table=True):
    """A supervisor's rating of an agent for a period (a month "2026-12" or a week)."""

    __tablename__ = "supervisor_ratings"
    __table_args__ = (
        sa.Index("ix_supervisor_ratings_agent_id_created_at", "agent_id", "created_at"),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="score_1_to_5"),
    )

    id: int | None = id_field()
    agent_id: int = fk("users.id", nullable=False)
    rater_id: int = fk("users.id", nullable=False)
    period: str = Field(max_length=8)
    score: int
    comment: str | None = text_field()
    created_at: dt.datetime = at_field(default_now=True)
