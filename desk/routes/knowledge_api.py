"""One knowledge article by id and the notices in force (outages per district). Searching
the knowledge base is the Chinese full-text `/api/knowledge/search` (knowledge/)."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query
from sqlmodel import col, select

from agent_api.auth import CurrentUser
from agent_api.deps import ServicesDep, SessionDep
from agent_api.errors import NotFound, error_responses
from customers.schemas import NoticeOut
from db.models import KbArticle, Notice
from knowledge.schemas import ArticleOut

router = APIRouter(tags=["knowledge"])
# The article and notice views are the knowledge and customers features' own.


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
