"""Quality inspection: scoring forms' scores, sampling, supervisor ratings (qa/).

The tables of db/models/qa.py and their guards: qa_scores and supervisor_ratings are
append-only (a correction is a new score that supersedes), qa_samples are never deleted.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# table -> the operations refused on it, and why
GUARDS: dict[str, tuple[tuple[str, ...], str]] = {
    "qa_scores": (("UPDATE", "DELETE"), "append-only"),
    "supervisor_ratings": (("UPDATE", "DELETE"), "append-only"),
    "qa_samples": (("DELETE",), "history is never deleted"),
}


def _guards(dialect: str) -> list[str]:
    statements: list[str] = []
    for table, (operations, why) in GUARDS.items():
        for operation in operations:
            name = f"trg_{table}_no_{operation.lower()}"
            if dialect == "sqlite":
                statements.append(
                    f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{operation} on {table} refused: {why}'); END"
                )
            else:  # hotline_refuse_change() is revision 0001's (db/guards.py)
                statements.append(
                    f"CREATE TRIGGER {name} BEFORE {operation} ON {table} FOR EACH ROW "
                    f"EXECUTE FUNCTION hotline_refuse_change('{why}')"
                )
        if dialect == "postgresql":
            statements.append(
                f"CREATE TRIGGER trg_{table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION hotline_refuse_change('{why}')"
            )
    return statements


def _drop_guards(dialect: str) -> list[str]:
    statements: list[str] = []
    for table, (operations, _) in GUARDS.items():
        on = f" ON {table}" if dialect == "postgresql" else ""
        extra = ("TRUNCATE",) if dialect == "postgresql" else ()
        for operation in operations + extra:
            statements.append(f"DROP TRIGGER IF EXISTS trg_{table}_no_{operation.lower()}{on}")
    return statements


def upgrade() -> None:
    op.create_table(
        "qa_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("call_id", BigId, nullable=False),
        sa.Column("recording_id", BigId, nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("drawn_by_id", sa.Integer(), nullable=True),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_qa_samples_agent_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_qa_samples_call_id_calls")
        ),
        sa.ForeignKeyConstraint(
            ["drawn_by_id"], ["users.id"], name=op.f("fk_qa_samples_drawn_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recordings.id"], name=op.f("fk_qa_samples_recording_id_recordings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_samples")),
        sa.UniqueConstraint("call_id", name=op.f("uq_qa_samples_call_id")),
    )
    with op.batch_alter_table("qa_samples", schema=None) as batch_op:
        batch_op.create_index("ix_qa_samples_state_week", ["state", "week"], unique=False)
        batch_op.create_index("ix_qa_samples_week_agent_id", ["week", "agent_id"], unique=False)

    op.create_table(
        "qa_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", BigId, nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("recording_id", BigId, nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=True),
        sa.Column("form_key", sa.String(length=40), nullable=False),
        sa.Column("answers", Json, nullable=False),
        sa.Column("fatal", Json, nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("total >= 0 AND total <= 100", name=op.f("ck_qa_scores_total_0_to_100")),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_qa_scores_agent_id_users")
        ),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_qa_scores_call_id_calls")),
        sa.ForeignKeyConstraint(
            ["inspector_id"], ["users.id"], name=op.f("fk_qa_scores_inspector_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recordings.id"], name=op.f("fk_qa_scores_recording_id_recordings")
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"], ["qa_samples.id"], name=op.f("fk_qa_scores_sample_id_qa_samples")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["qa_scores.id"], name=op.f("fk_qa_scores_supersedes_id_qa_scores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_scores")),
    )
    with op.batch_alter_table("qa_scores", schema=None) as batch_op:
        batch_op.create_index(
            "ix_qa_scores_agent_id_created_at", ["agent_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_qa_scores_call_id", ["call_id"], unique=False)
        batch_op.create_index("ix_qa_scores_supersedes_id", ["supersedes_id"], unique=True)

    op.create_table(
        "supervisor_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("rater_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "score BETWEEN 1 AND 5", name=op.f("ck_supervisor_ratings_score_1_to_5")
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_supervisor_ratings_agent_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["rater_id"], ["users.id"], name=op.f("fk_supervisor_ratings_rater_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervisor_ratings")),
    )
    with op.batch_alter_table("supervisor_ratings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_supervisor_ratings_agent_id_created_at", ["agent_id", "created_at"], unique=False
        )
    for statement in _guards(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in _drop_guards(op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table("supervisor_ratings", schema=None) as batch_op:
        batch_op.drop_index("ix_supervisor_ratings_agent_id_created_at")
    op.drop_table("supervisor_ratings")
    with op.batch_alter_table("qa_scores", schema=None) as batch_op:
        batch_op.drop_index("ix_qa_scores_supersedes_id")
        batch_op.drop_index("ix_qa_scores_call_id")
        batch_op.drop_index("ix_qa_scores_agent_id_created_at")
    op.drop_table("qa_scores")
    with op.batch_alter_table("qa_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_qa_samples_week_agent_id")
        batch_op.drop_index("ix_qa_samples_state_week")
    op.drop_table("qa_samples")
