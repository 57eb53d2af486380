"""Request bodies of the quality-inspection API."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
WEEK_PATTERN = r"^\d{4}-W\d{2}$"
PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2]|W\d{2})$"  # a month (2026-12) or a week (2026-W49)
BIG = 2**53  # fits BIGINT and SQLite INTEGER
USER = 2**31 - 1


class ScoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: int = Field(ge=1, le=BIG)
    form_key: Key | None = Field(None, description="default: qa.default_form")
    answers: dict[Key, Annotated[int, Field(ge=0, le=100)]] = Field(
        max_length=50, description="points per criterion key, 0..max_points"
    )
    fatal: list[Key] = Field(default_factory=list, max_length=50)
    comment: str | None = Field(None, max_length=2000)


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent_id: int = Field(ge=1, le=USER)
    period: str = Field(pattern=PERIOD_PATTERN, description="2026-12 or 2026-W49")
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=2000)


class DrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    week: str | None = Field(None, pattern=WEEK_PATTERN, description="default: this week")
    per_agent: int | None = Field(None, ge=1, le=100, description="default: config")
