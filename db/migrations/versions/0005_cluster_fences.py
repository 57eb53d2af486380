"""Cluster fences: the newest leadership term that acted, per duty group, and the slot a
once-per-slot duty (the retention purge) last ran in (kernel/fencing.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_fences",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cluster_fences")),
    )


def downgrade() -> None:
    op.drop_table("cluster_fences")
