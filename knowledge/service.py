"""The knowledge base: FAQ articles with standard answers and safety knowledge, found by
full text (Chinese included, on SQLite and PostgreSQL) and suggested on the screen pop.

Search uses the CJK bigram index of revision 0003 (db/textsearch.py): a
two-character word such as 燃气 finds every article containing it. Articles written
elsewhere (e.g. `hotline-dev seed`) are indexed on the next search (stale rows are found by
their updated_at stamp). Suggestions rank articles by what the caller chose in the IVR
(skill, menu nodes) and the categories of their open tickets, through config
`tickets.knowledge_categories`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import KbArticle
from db.search_index import SearchIndex
from db.textsearch import document_terms, needs_substring_scan, query_phrases
from hotline.services import Services
from kernel.audit import Actor, audit_row, write_audit
from tickets.errors import ArticleNotFound, InvalidTicket

INDEX = SearchIndex("kb_articles")
EDITABLE = ("title", "body", "category", "tags", "language", "slug", "active")


@dataclass(frozen=True)
class ArticleHit:
    article: KbArticle
    rank: float  # lower is better (bm25 / -ts_rank)


def article_terms(a: KbArticle) -> str:
    return document_terms(a.title, a.body, " ".join(a.tags), a.category)


class KnowledgeBase:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._sessions = services.sessions
        self._clock = services.clock
        self._categories = services.settings.tickets.knowledge_categories

    # --- editing ---------------------------------------------------------------------

    async def create_article(
        self,
        actor: Actor,
        *,
        title: str,
        body: str,
        category: str,
        tags: Sequence[str] = (),
        language: str = "zh",
        slug: str | None = None,
    ) -> KbArticle:
        if not title.strip():
            raise InvalidTicket("an article needs a title")
        now = self._clock.now()
        article = KbArticle(
            title=title.strip(),
            body=body,
            category=category,
            tags=list(tags),
            language=language,
            slug=slug,
            author_id=actor.id,
            created_at=now,
            updated_at=now,
        )
        async with self._sessions() as session:
            session.add(article)
            await session.flush()
            await self._index(session, article)
            detail = {"title": article.title}
            await self._audit(session, actor, "kb.article_created", article, detail)
            await session.commit()
        return article

    async def update_article(self, article_id: int, actor: Actor, **changes: Any) -> KbArticle:
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise InvalidTicket(f"cannot edit {', '.join(sorted(unknown))}")
        async with self._sessions() as session:
            article = await session.get(KbArticle, article_id)
            if article is None:
                raise ArticleNotFound(article_id)
            changed = {k: v for k, v in changes.items() if getattr(article, k) != v}
            for name, value in changed.items():
                setattr(article, name, list(value) if name == "tags" else value)
            if changed:
                article.updated_at = self._clock.now()
                session.add(article)
                await session.flush()
                await self._index(session, article)
                await self._audit(
                    session, actor, "kb.article_updated", article, {"fields": sorted(changed)}
                )
                await session.commit()
        return article

    async def get(self, article_id: int) -> KbArticle:
        async with self._sessions() as session:
            article = await session.get(KbArticle, article_id)
        if article is None:
            raise ArticleNotFound(article_id)
        return article

    # --- finding ---------------------------------------------------------------------

    async def search(
        self,
        query: str,
        *,
        category: str | None = None,
        language: str | None = None,
        limit: int = 20,
        include_inactive: bool = False,
    ) -> list[ArticleHit]:
        phrases = query_phrases(query)
        if not phrases:
            return []
        await self.sync_index()
        async with self._sessions() as session:
            if needs_substring_scan(query):
                stmt = select(KbArticle, col(KbArticle.id) * 0.0)
                for word in query.split():
                    pattern = f"%{word}%"
                    stmt = stmt.where(
                        or_(col(KbArticle.title).ilike(pattern), col(KbArticle.body).ilike(pattern))
                    )
            else:
                match = INDEX.matching(session.get_bind().dialect.name, phrases)
                stmt = select(KbArticle, match.c.rank).join(match, match.c.id == KbArticle.id)
                stmt = stmt.order_by(match.c.rank)
            if category:
                stmt = stmt.where(KbArticle.category == category)
            if language:
                stmt = stmt.where(KbArticle.language == language)
            if not include_inactive:
                stmt = stmt.where(KbArticle.active == True)  # noqa: E712 (SQL expression)
            rows = await session.exec(
                stmt.order_by(col(KbArticle.id)).limit(max(1, min(limit, 200)))
            )
            return [ArticleHit(a, float(rank or 0.0)) for a, rank in rows.all()]

    async def suggest(
        self,
        skill: str | None,
        ivr_path: Sequence[str] | str | None,
        categories: Sequence[str] = (),
        *,
        language: str = "zh",
        limit: int = 5,
    ) -> list[KbArticle]:
        """Articles for the screen pop: by the queue/skill the caller chose, the IVR menu
        nodes they went through, and the categories of their open tickets."""
        nodes = set(ivr_path.split("/") if isinstance(ivr_path, str) else ivr_path or ())
        wanted = set(categories)
        score: dict[str, int] = {}
        for kc in self._categories:
            s = 3 * (skill in kc.skills) + 2 * len(nodes & set(kc.ivr_nodes))
            s += 2 * len(wanted & set(kc.ticket_categories))
            if s:
                score[kc.name] = s
        if not score:
            return []
        hints = {x for x in (skill, *wanted) if x}
        async with self._sessions() as session:
            rows = await session.exec(
                select(KbArticle).where(
                    col(KbArticle.category).in_(list(score)),
                    KbArticle.language == language,
                    KbArticle.active == True,  # noqa: E712 (SQL expression)
                )
            )
            articles = list(rows.all())

        def rank(a: KbArticle) -> tuple[int, float, int]:
            bonus = len(hints & {t.lower() for t in a.tags})
            return (-(score[a.category] + bonus), -a.updated_at.timestamp(), a.id or 0)

        return sorted(articles, key=rank)[:limit]

    async def sync_index(self) -> int:
        """Index articles written or changed behind the knowledge base's back."""
        done = 0
        seen: set[int] = set()
        async with self._sessions() as session:
            while True:
                stale = await INDEX.stale_ids(await session.connection(), limit=200)
                if not stale or seen.issuperset(stale):
                    break  # nothing left (or no progress: never loop forever)
                seen.update(stale)
                rows = await session.exec(select(KbArticle).where(col(KbArticle.id).in_(stale)))
                for article in rows.all():
                    await self._index(session, article)
                    done += 1
            if done:
                await session.commit()
        return done

    async def _index(self, session: AsyncSession, article: KbArticle) -> None:
        assert article.id is not None
        await INDEX.put(await session.connection(), article.id, article_terms(article))

    async def _audit(
        self,
        session: AsyncSession,
        actor: Actor,
        action: str,
        article: KbArticle,
        detail: dict[str, Any],
    ) -> None:
        row = audit_row(
            actor=actor,
            action=action,
            object_type="kb_article",
            object_id=article.id,
            source="tickets.knowledge",
            detail=detail,
            at=self._clock.now(),
        )
        await write_audit(session, [row])
