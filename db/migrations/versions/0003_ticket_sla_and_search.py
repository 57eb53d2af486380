"""Tickets: SLA clock bookkeeping and Chinese full-text search for tickets and articles.

- tickets: response_warn_at, resolution_warn_at, resolution_started_at,
  sla_response_stage, sla_resolution_stage, sla_next_at (indexed: the SLA monitor sleeps
  until the smallest one). Plain ADD COLUMN / CREATE INDEX: no SQLite table copy, so the
  no-delete trigger on tickets stays.
- Search indexes kept by the application (db/search_index.py), one row per ticket
  and per knowledge article, holding `terms`: the text cut into Latin words and
  overlapping CJK bigrams (db/textsearch.py), so a two-character Chinese word is one
  token on both backends:
    SQLite: FTS5 virtual tables tickets_fts / kb_articles_fts (rowid = the row's id).
    PostgreSQL: tables tickets_search / kb_articles_search with a generated
    to_tsvector('simple', terms) column under a GIN index.
  They are not SQLModel tables (db.migrate's schema diff ignores tables it does not know).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (index table, source table)
SEARCH_TABLES = (("tickets", "tickets"), ("kb_articles", "kb_articles"))


def upgrade() -> None:
    for name in ("response_warn_at", "resolution_warn_at", "resolution_started_at", "sla_next_at"):
        op.add_column("tickets", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    for name in ("sla_response_stage", "sla_resolution_stage"):
        op.add_column("tickets", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_tickets_sla_next_at", "tickets", ["sla_next_at"], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        for prefix, _source in SEARCH_TABLES:
            # rowid = the source row's id; stamp = the source's updated_at when indexed.
            op.execute(
                f"CREATE VIRTUAL TABLE {prefix}_fts USING fts5("
                "terms, stamp UNINDEXED, tokenize = 'unicode61')"
            )
    else:
        for prefix, source in SEARCH_TABLES:
            op.execute(
                f"CREATE TABLE {prefix}_search ("
                f"id INTEGER PRIMARY KEY REFERENCES {source} (id), "
                "terms TEXT NOT NULL, "
                "stamp TIMESTAMP WITH TIME ZONE, "
                "tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED)"
            )
            op.execute(f"CREATE INDEX ix_{prefix}_search_tsv ON {prefix}_search USING GIN (tsv)")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for prefix, _source in SEARCH_TABLES:
        op.execute(
            f"DROP TABLE IF EXISTS {prefix}_fts" if sqlite else f"DROP TABLE {prefix}_search"
        )
    op.drop_index("ix_tickets_sla_next_at", table_name="tickets")
    # DROP COLUMN, not a batch table copy: the copy would drop the tickets guard trigger.
    for name in (
        "sla_next_at",
        "sla_resolution_stage",
        "sla_response_stage",
        "resolution_started_at",
        "resolution_warn_at",
        "response_warn_at",
    ):
        op.drop_column("tickets", name)
