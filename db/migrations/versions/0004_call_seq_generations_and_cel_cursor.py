"""Call log across backend restarts: 64-bit event seq and the CEL read cursor.

- calls.last_seq and call_events.seq become BIGINT: a tracker event's seq now carries
  the bridge session's generation (cti/sequence.py), so a call that spans a restart
  keeps numbering upwards. On SQLite an INTEGER is already 64-bit and the models keep
  INTEGER there (db.types.BigId), so nothing changes and no table is copied (a batch
  copy of calls would drop its db/guards trigger).
- cel_cursors: per PBX node, how far the bridge has read Asterisk's CEL store (cti/cel/).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQ_COLUMNS = (("calls", "last_seq", False), ("call_events", "seq", True))


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, column, nullable in SEQ_COLUMNS:
            op.alter_column(
                table,
                column,
                type_=sa.BigInteger(),
                existing_type=sa.Integer(),
                existing_nullable=nullable,
            )
    op.create_table(
        "cel_cursors",
        sa.Column("pbx_node", sa.String(length=40), nullable=False),
        sa.Column("store", sa.String(length=200), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pbx_node", name=op.f("pk_cel_cursors")),
    )


def downgrade() -> None:
    op.drop_table("cel_cursors")
    if op.get_bind().dialect.name == "postgresql":
        # Seqs past 2**31 (every seq written since 0004) do not fit back: refuse rather
        # than lose the call log's ordering silently.
        for table, column, nullable in SEQ_COLUMNS:
            op.alter_column(
                table,
                column,
                type_=sa.Integer(),
                existing_type=sa.BigInteger(),
                existing_nullable=nullable,
            )
