"""One knowledge article by id and the notices in force (outages per district). Searching
the knowledge base is the Chinese full-text `/api/knowledge/search` (knowledge/)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from sqlmodel import col, select

from agent_api.auth import CurrentUser
from agent_api.deps import ServicesDep, SessionDep
from agent_api.errors import NotFound, error_responses
from db.models import KbArticle, Notice

router = APIRouter(tags=["knowledge"])


class ArticleOut(BaseModel):
    id: int
    title: str
    body: str
    category: str
    tags: list[str]
    language: str
    slug: str | None

    @classmethod
    def of(cls, a: KbArticle) -> ArticleOut:
        assert a.id is not None
        return cls(
            id=a.id,
            title=a.title,
            body=a.body,
            category=a.category,
            tags=list(a.tags or []),
            language=a.language,
            slug=a.slug,
        )


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

    @classmethod
    def of(cls, n: Notice) -> NoticeOut:
        assert n.id is not None
        return cls(
            id=n.id,
            district=n.district,
            kind=str(n.kind),
            title_zh=n.title_zh,
            title_en=n.title_en,
            body_zh=n.body_zh,
            body_en=n.body_en,
            valid_from=n.valid_from,
            valid_to=n.valid_to,
        )


@router.get(
    "/api/kb/{article_id}",
    response_model=ArticleOut,
    responses=error_responses(401, 404, 422),
)
async def get_article(
    article_id: Annotated[int, Path(ge=1, le=2**31 - 1)], user: CurrentUser, session: SessionDep
) -> ArticleOut:
    article = await session.get(KbArticle, article_id)
    if article is None or not article.active:
        raise NotFound(f"no knowledge article {article_id}")
    return ArticleOut.of(article)


@router.get(
    "/api/notices",
    response_model=list[NoticeOut],
    responses=error_responses(401, 422),
    summary="Notices in force now (a district's and the city-wide ones)",
)
async def current_notices(
    user: CurrentUser,
    session: SessionDep,
    services: ServicesDep,
    district: Annotated[str | None, Query(max_length=40)] = None,
) -> list[NoticeOut]:
    now = services.clock.now()
    stmt = select(Notice).where(
        col(Notice.valid_from) <= now,
        sa.or_(col(Notice.valid_to).is_(None), col(Notice.valid_to) > now),
        col(Notice.withdrawn_at).is_(None),
    )
    if district:
        stmt = stmt.where(sa.or_(col(Notice.district).is_(None), col(Notice.district) == district))
    stmt = stmt.order_by(col(Notice.valid_from).desc()).limit(100)
    return [NoticeOut.of(n) for n in (await session.exec(stmt)).all()]
