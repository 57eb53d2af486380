"""Request and response bodies of the knowledge base's HTTP API (knowledge/api.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from db.models import KbArticle


class ArticleOut(BaseModel):
    id: int
    title: str
    body: str
    category: str
    tags: list[str]
    language: str
    slug: str | None
    active: bool

    @classmethod
    def of(cls, a: KbArticle) -> ArticleOut:
        return cls.model_validate(a, from_attributes=True)


class ArticleHitOut(BaseModel):
    article: ArticleOut
    rank: float


class ArticleIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field("", max_length=50_000)
    category: str = Field(min_length=1, max_length=40)
    tags: list[str] = []
    language: Literal["zh", "en"] = "zh"
    slug: str | None = Field(None, max_length=80)


class ArticleChange(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, max_length=50_000)
    category: str | None = Field(None, min_length=1, max_length=40)
    tags: list[str] | None = None
    active: bool | None = None
