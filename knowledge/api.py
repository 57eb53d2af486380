"""HTTP API of the knowledge base (mounted by agent_api/app.py).

GET  /api/knowledge/search?q=燃气          full text (two-character Chinese words work)
GET  /api/knowledge/suggest?skill=&ivr_path=a/b&category=   for the screen pop
POST /api/knowledge/articles  PATCH /api/knowledge/articles/{id}  (supervisor, admin, qa)
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from agent_api.auth import CurrentUser, Principal, require_roles
from agent_api.errors import error_responses
from db.models import Role
from hotline.services import Services
from kernel.audit import Actor
from knowledge.schemas import ArticleChange, ArticleHitOut, ArticleIn, ArticleOut
from knowledge.service import KnowledgeBase

# Every route documents the error bodies it can give ({error, message}).
ERRORS = error_responses(400, 401, 403, 404, 409, 422)
router = APIRouter()
Editor = Annotated[Principal, require_roles(Role.SUPERVISOR, Role.ADMIN, Role.QA)]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _actor(user: Principal) -> Actor:
    return Actor(user.id, user.display_name or user.username, user.role.value)


@router.get(
    "/api/knowledge/search",
    response_model=list[ArticleHitOut],
    tags=["knowledge"],
    responses=ERRORS,
)
async def kb_search(
    request: Request,
    user: CurrentUser,
    q: Annotated[str, Query(min_length=1, max_length=100)],
    category: Annotated[str | None, Query(max_length=40)] = None,
    language: Annotated[str | None, Query(pattern="^(zh|en)$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[ArticleHitOut]:
    hits = await KnowledgeBase(_services(request)).search(
        q, category=category, language=language, limit=limit
    )
    return [ArticleHitOut(article=ArticleOut.of(h.article), rank=h.rank) for h in hits]


@router.get(
    "/api/knowledge/suggest", response_model=list[ArticleOut], tags=["knowledge"], responses=ERRORS
)
async def kb_suggest(
    request: Request,
    user: CurrentUser,
    skill: Annotated[str | None, Query(max_length=40)] = None,
    ivr_path: Annotated[str | None, Query(max_length=400, description="a/b/c")] = None,
    category: Annotated[list[str] | None, Query(description="open tickets' categories")] = None,
    language: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
) -> list[ArticleOut]:
    kb = KnowledgeBase(_services(request))
    articles = await kb.suggest(skill, ivr_path, category or [], language=language)
    return [ArticleOut.of(a) for a in articles]


@router.post(
    "/api/knowledge/articles",
    response_model=ArticleOut,
    status_code=201,
    tags=["knowledge"],
    responses=ERRORS,
)
async def kb_create(request: Request, body: ArticleIn, user: Editor) -> ArticleOut:
    kb = KnowledgeBase(_services(request))
    return ArticleOut.of(await kb.create_article(_actor(user), **body.model_dump()))


@router.patch(
    "/api/knowledge/articles/{article_id}",
    response_model=ArticleOut,
    tags=["knowledge"],
    responses=ERRORS,
)
async def kb_update(
    request: Request, article_id: RowId, body: ArticleChange, user: Editor
) -> ArticleOut:
    kb = KnowledgeBase(_services(request))
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    return ArticleOut.of(await kb.update_article(article_id, _actor(user), **changes))
