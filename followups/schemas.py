"""Request and response bodies of the follow-ups' HTTP API (followups/api.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FollowUpResult(BaseModel):
    rating: int | None = Field(None, ge=1, le=5)
    resolved: bool | None = None
    comments: str | None = Field(None, max_length=2000)
