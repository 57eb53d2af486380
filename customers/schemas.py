"""What the customer API takes and returns: outage notices and customer-import jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from db.models import Notice


class NoticeIn(BaseModel):
    title_zh: str = Field(min_length=1, max_length=200)
    title_en: str = Field("", max_length=200)
    body_zh: str = Field("", max_length=10_000)
    body_en: str = Field("", max_length=10_000)
    district: str | None = Field(None, max_length=40)
    kind: Literal["outage", "maintenance", "announcement"] = "outage"
    valid_from: dt.datetime
    valid_to: dt.datetime | None = None


class NoticeChange(BaseModel):
    title_zh: str | None = Field(None, min_length=1, max_length=200)
    title_en: str | None = Field(None, max_length=200)
    body_zh: str | None = Field(None, max_length=10_000)
    body_en: str | None = Field(None, max_length=10_000)
    district: str | None = Field(None, max_length=40)
    kind: Literal["outage", "maintenance", "announcement"] | None = None
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None


class NoticeOut(BaseModel):
    id: int
    district: str | None
    kind: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    withdrawn_at: dt.datetime | None

    @classmethod
    def of(cls, n: Notice) -> NoticeOut:
        return cls.model_validate(n, from_attributes=True)


class ImportJobOut(BaseModel):
    id: str
    state: Literal["running", "done", "failed"]
    rows_done: int = 0
    rows_total: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    tier_changes: int = 0
    error: str | None = None
    errors: list[dict[str, Any]] = []  # the first 1,000 bad rows (all in errors.csv)
