"""Outbound campaigns (campaigns/): campaigns, their contacts and attempts, the
do-not-call list, the text-message outbox, and calls.campaign_id.

Nothing here is deleted (triggers refuse DELETE): campaigns are stopped, contacts
cancelled, do-not-call entries lifted, messages failed. On SQLite adding calls.campaign_id
recreates the calls table, which drops its guard: it is installed again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 11:51:17.792924
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from db.guards import install_guards

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TABLES = ("campaigns", "campaign_contacts", "campaign_attempts", "do_not_call", "sms_messages")
WHY = "history is never deleted"


def _guards(dialect: str) -> list[str]:
    statements: list[str] = []
    for table in NEW_TABLES:
        name = f"trg_{table}_no_delete"
        if dialect == "sqlite":
            statements.append(
                f"CREATE TRIGGER {name} BEFORE DELETE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'DELETE on {table} refused: {WHY}'); END"
            )
        else:  # hotline_refuse_change() is revision 0001's (db/guards.py)
            statements.append(
                f"CREATE TRIGGER {name} BEFORE DELETE ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION hotline_refuse_change('{WHY}')"
            )
            statements.append(
                f"CREATE TRIGGER trg_{table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION hotline_refuse_change('{WHY}')"
            )
    return statements


def _drop_guards(dialect: str) -> list[str]:
    statements: list[str] = []
    for table in NEW_TABLES:
        on = f" ON {table}" if dialect == "postgresql" else ""
        statements.append(f"DROP TRIGGER IF EXISTS trg_{table}_no_delete{on}")
        if dialect == "postgresql":
            statements.append(f"DROP TRIGGER IF EXISTS trg_{table}_no_truncate{on}")
    return statements


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("dial_mode", sa.String(length=20), nullable=True),
        sa.Column("skill", sa.String(length=40), nullable=True),
        sa.Column("caller_id", sa.String(length=40), nullable=True),
        sa.Column(
            "script", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "rules", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "source", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("sms_fallback", sa.Boolean(), nullable=False),
        sa.Column("sms_text", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_campaigns_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index("ix_campaigns_state", ["state"], unique=False)

    op.create_table(
        "do_not_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_do_not_call_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_do_not_call_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_do_not_call_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["lifted_by_id"], ["users.id"], name=op.f("fk_do_not_call_lifted_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_do_not_call")),
    )
    with op.batch_alter_table("do_not_call", schema=None) as batch_op:
        batch_op.create_index("ix_do_not_call_number", ["number"], unique=False)

    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("gateway_id", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_sms_messages_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_sms_messages_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_sms_messages_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
    )
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sms_messages_state_next_attempt_at", ["state", "next_attempt_at"], unique=False
        )

    op.create_table(
        "campaign_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.String(length=20), nullable=True),
        sa.Column("keys", sa.String(length=200), nullable=False),
        sa.Column(
            "answers", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column(
            "last_call_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("sms_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_campaign_contacts_agent_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_contacts_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_campaign_contacts_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["last_call_id"], ["calls.id"], name=op.f("fk_campaign_contacts_last_call_id_calls")
        ),
        sa.ForeignKeyConstraint(
            ["sms_id"], ["sms_messages.id"], name=op.f("fk_campaign_contacts_sms_id_sms_messages")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_campaign_contacts_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_contacts")),
        sa.UniqueConstraint(
            "campaign_id", "number", name=op.f("uq_campaign_contacts_campaign_id_number")
        ),
    )
    with op.batch_alter_table("campaign_contacts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_contacts_campaign_id_state", ["campaign_id", "state"], unique=False
        )
        batch_op.create_index(
            "ix_campaign_contacts_state_next_attempt_at", ["state", "next_attempt_at"], unique=False
        )

    op.create_table(
        "campaign_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("hangup_cause", sa.String(length=16), nullable=True),
        sa.Column("amd_status", sa.String(length=20), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_campaign_attempts_agent_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_campaign_attempts_call_id_calls")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_attempts_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["campaign_contacts.id"],
            name=op.f("fk_campaign_attempts_contact_id_campaign_contacts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_attempts")),
        sa.UniqueConstraint("linkedid", name=op.f("uq_campaign_attempts_linkedid")),
    )
    with op.batch_alter_table("campaign_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_attempts_campaign_id_started_at",
            ["campaign_id", "started_at"],
            unique=False,
        )
        batch_op.create_index("ix_campaign_attempts_contact_id", ["contact_id"], unique=False)

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_calls_campaign_id", ["campaign_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_calls_campaign_id_campaigns"), "campaigns", ["campaign_id"], ["id"]
        )

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":  # the batch recreated calls without its trigger
        install_guards(op.execute, dialect, tables=("calls",))
    for statement in _guards(dialect):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _drop_guards(dialect):
        op.execute(statement)
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_calls_campaign_id_campaigns"), type_="foreignkey")
        batch_op.drop_index("ix_calls_campaign_id")
        batch_op.drop_column("campaign_id")
    if dialect == "sqlite":
        install_guards(op.execute, dialect, tables=("calls",))

    with op.batch_alter_table("campaign_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_attempts_contact_id")
        batch_op.drop_index("ix_campaign_attempts_campaign_id_started_at")

    op.drop_table("campaign_attempts")
    with op.batch_alter_table("campaign_contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_contacts_state_next_attempt_at")
        batch_op.drop_index("ix_campaign_contacts_campaign_id_state")

    op.drop_table("campaign_contacts")
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_messages_state_next_attempt_at")

    op.drop_table("sms_messages")
    with op.batch_alter_table("do_not_call", schema=None) as batch_op:
        batch_op.drop_index("ix_do_not_call_number")

    op.drop_table("do_not_call")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index("ix_campaigns_state")

    op.drop_table("campaigns")
