"""The full-text index tables of revision 0003, per backend, behind one small class.

SQLite: `<prefix>_fts` (FTS5, rowid = source id, columns terms, stamp).
PostgreSQL: `<prefix>_search` (id, terms, stamp, tsv = to_tsvector('simple', terms)).
`stamp` copies the source row's updated_at when indexed, so rows written by someone
else (e.g. `hotline-dev seed` inserting articles) are found stale and indexed on demand.
Terms come from db/textsearch.py for both documents and queries.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from db.textsearch import fts5_match, tsquery_phrases


class SearchIndex:
    def __init__(self, source: str) -> None:
        if source not in ("tickets", "kb_articles"):
            raise ValueError(f"no search index for {source!r}")
        self.source = source

    def _table(self, dialect: str) -> str:
        return f"{self.source}_fts" if dialect == "sqlite" else f"{self.source}_search"

    async def put(self, conn: AsyncConnection, row_id: int, terms: str) -> None:
        """(Re)index one row; stamp = the source row's current updated_at."""
        dialect = conn.dialect.name
        table = self._table(dialect)
        params = {"id": row_id, "terms": terms}
        if dialect == "sqlite":
            await conn.execute(sa.text(f"DELETE FROM {table} WHERE rowid = :id"), params)
            await conn.execute(
                sa.text(
                    f"INSERT INTO {table} (rowid, terms, stamp) "
                    f"SELECT id, :terms, updated_at FROM {self.source} WHERE id = :id"
                ),
                params,
            )
            return
        await conn.execute(
            sa.text(
                f"INSERT INTO {table} (id, terms, stamp) "
                f"SELECT id, :terms, updated_at FROM {self.source} WHERE id = :id "
                "ON CONFLICT (id) DO UPDATE SET terms = excluded.terms, stamp = excluded.stamp"
            ),
            params,
        )

    async def stale_ids(self, conn: AsyncConnection, limit: int = 1000) -> list[int]:
        """Source rows never indexed, or changed since."""
        dialect = conn.dialect.name
        table = self._table(dialect)
        key = "rowid" if dialect == "sqlite" else "id"
        differs = "IS NOT" if dialect == "sqlite" else "IS DISTINCT FROM"
        rows = await conn.execute(
            sa.text(
                f"SELECT s.id FROM {self.source} s LEFT JOIN {table} f ON f.{key} = s.id "
                f"WHERE f.{key} IS NULL OR f.stamp {differs} s.updated_at "
                "ORDER BY s.id LIMIT :limit"
            ),
            {"limit": limit},
        )
        return [int(r[0]) for r in rows]

    def matching(self, dialect: str, phrases: list[list[str]]) -> sa.Subquery:
        """A subquery (id, rank) of rows matching every phrase; lower rank = better."""
        table = self._table(dialect)
        if dialect == "sqlite":
            stmt = sa.text(
                f"SELECT rowid AS id, bm25({table}) AS rank FROM {table} WHERE {table} MATCH :q"
            ).bindparams(q=fts5_match(phrases))
        else:
            stmt = sa.text(
                f"SELECT id, -ts_rank_cd(tsv, query) AS rank "
                f"FROM {table}, to_tsquery('simple', :q) AS query WHERE tsv @@ query"
            ).bindparams(q=tsquery_phrases(phrases))
        return stmt.columns(sa.column("id", sa.Integer), sa.column("rank", sa.Float)).subquery(
            f"{self.source}_match"
        )
