"""Call log idempotence: calls.last_seq and call_events.seq (unique per call).

The call log writer gets tracker events at least once (bus groups redeliver after a
crash): `last_seq` stops an older snapshot from overwriting a newer one and the unique
(call_id, seq) index stops a timeline entry from being written twice. Plain ADD COLUMN
and CREATE INDEX, so SQLite needs no table copy (which would drop db/guards triggers).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 00:21:10.435408
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("call_events", sa.Column("seq", sa.Integer(), nullable=True))
    op.create_index("uq_call_events_call_id_seq", "call_events", ["call_id", "seq"], unique=True)
    op.add_column("calls", sa.Column("last_seq", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_index("uq_call_events_call_id_seq", table_name="call_events")
    with op.batch_alter_table("calls") as batch_op:
        batch_op.drop_column("last_seq")
    with op.batch_alter_table("call_events") as batch_op:
        batch_op.drop_column("seq")
