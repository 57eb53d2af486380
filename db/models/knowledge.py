"""Knowledge base articles (FAQ, standard answers, safety knowledge) and notices.

Chinese full-text search is the knowledge feature's business (tickets/ or customers/):
it may add an FTS5 table on SQLite or a trigram/bigram index on PostgreSQL by migration.
"""

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.models.base import at_field, enum_field, fk, id_field, json_field, text_field


class NoticeKind(StrEnum):
    OUTAGE = "outage"
    MAINTENANCE = "maintenance"
    ANNOUNCEMENT = "announcement"


class KbArticleBase(SQLModel):
    title: str = Field(max_length=200)
    body: str = text_field("")
    category: str = Field(max_length=40)  # e.g. safety, billing, business, repair
    tags: list[str] = json_field()
    language: str = Field(default="zh", max_length=8)
    # Articles in two languages about one topic share a slug.
    slug: str | None = Field(default=None, max_length=80)
    active: bool = True


class KbArticle(KbArticleBase, table=True):
    __tablename__ = "kb_articles"
    __table_args__ = (
        sa.UniqueConstraint("slug", "language"),
        sa.Index("ix_kb_articles_category_language", "category", "language"),
    )

    id: int | None = id_field()
    author_id: int | None = fk("users.id")
    created_at: dt.datetime = at_field(default_now=True)
    updated_at: dt.datetime = at_field(default_now=True)


class NoticeBase(SQLModel):
    district: str | None = Field(default=None, max_length=40)  # None: the whole city
    kind: NoticeKind = enum_field(NoticeKind, NoticeKind.ANNOUNCEMENT)
    title_zh: str = Field(max_length=200)
    title_en: str = Field(default="", max_length=200)
    body_zh: str = text_field("")
    body_en: str = text_field("")
    valid_from: dt.datetime = at_field(nullable=False)
    valid_to: dt.datetime | None = at_field()  # None: until withdrawn


class Notice(NoticeBase, table=True):
    __tablename__ = "notices"
    __table_args__ = (sa.Index("ix_notices_district_valid_from", "district", "valid_from"),)

    id: int | None = id_field()
    created_by_id: int | None = fk("users.id")
    created_at: dt.datetime = at_field(default_now=True)
    withdrawn_at: dt.datetime | None = at_field()
