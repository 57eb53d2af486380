"""Privacy: customer-file grants from an agent's own searches, erasure marks (privacy/).

The tables of db/models/privacy.py.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_file_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_file_grants_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_customer_file_grants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_file_grants")),
    )
    with op.batch_alter_table("customer_file_grants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customer_file_grants_user_customer",
            ["user_id", "customer_id", "expires_at"],
            unique=False,
        )

    op.create_table(
        "customer_erasures",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_erasures_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["erased_by_id"], ["users.id"], name=op.f("fk_customer_erasures_erased_by_id_users")
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_erasures")),
    )


def downgrade() -> None:
    op.drop_table("customer_erasures")
    with op.batch_alter_table("customer_file_grants", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_file_grants_user_customer")
    op.drop_table("customer_file_grants")
