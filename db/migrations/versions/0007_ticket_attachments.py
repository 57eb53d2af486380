"""Work-order attachments: photos and documents of a ticket (tickets/workbench).

The table `ticket_attachments` (db/models/attachments.py) and a trigger refusing DELETE
on it: what was attached to a ticket stays known (the file itself is sealed at rest).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHY = "history is never deleted"


def _guard(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            "CREATE TRIGGER trg_ticket_attachments_no_delete BEFORE DELETE ON ticket_attachments "
            f"BEGIN SELECT RAISE(ABORT, 'DELETE on ticket_attachments refused: {_WHY}'); END"
        ]
    # hotline_refuse_change() is revision 0001's (db/guards.py).
    return [
        "CREATE TRIGGER trg_ticket_attachments_no_delete BEFORE DELETE ON ticket_attachments "
        f"FOR EACH ROW EXECUTE FUNCTION hotline_refuse_change('{_WHY}')",
        "CREATE TRIGGER trg_ticket_attachments_no_truncate BEFORE TRUNCATE ON ticket_attachments "
        f"FOR EACH STATEMENT EXECUTE FUNCTION hotline_refuse_change('{_WHY}')",
    ]


def upgrade() -> None:
    op.create_table(
        "ticket_attachments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=60), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("sealed", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by_name", sa.String(length=80), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_attachments_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_ticket_attachments_uploaded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_attachments")),
        sa.UniqueConstraint("path", name=op.f("uq_ticket_attachments_path")),
    )
    with op.batch_alter_table("ticket_attachments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_attachments_ticket_id_uploaded_at",
            ["ticket_id", "uploaded_at"],
            unique=False,
        )
    for statement in _guard(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    on = " ON ticket_attachments" if dialect == "postgresql" else ""
    op.execute(f"DROP TRIGGER IF EXISTS trg_ticket_attachments_no_delete{on}")
    if dialect == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS trg_ticket_attachments_no_truncate{on}")
    with op.batch_alter_table("ticket_attachments", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_attachments_ticket_id_uploaded_at")
    op.drop_table("ticket_attachments")
