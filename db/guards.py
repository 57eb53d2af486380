"""Database-level guards for "no record is ever deleted implicitly" (DOMAIN.md).

Triggers refuse, whatever the client:
- UPDATE or DELETE on append-only audit tables (ticket_events, audit_log);
- DELETE on history tables (tickets, calls, call_events, recordings, surveys).
  Recordings are "deleted" by the retention job by removing the file and setting
  deleted_at; tickets are archived, never removed.

Migrations call these (the SQL is plain DDL). On SQLite, a batch-mode migration that
recreates one of these tables drops its triggers: such a revision must call
`install_guards` again for that table (the schema tests check the guards hold at head).
"""

from __future__ import annotations

from collections.abc import Callable

APPEND_ONLY = ("ticket_events", "audit_log")
NO_DELETE = ("tickets", "calls", "call_events", "recordings", "surveys")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION hotline_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: %', TG_OP, TG_TABLE_NAME, TG_ARGV[0]
        USING ERRCODE = 'restrict_violation';
END
$$
"""


def guard_statements(dialect: str, tables: tuple[str, ...] | None = None) -> list[str]:
    """CREATE TRIGGER statements for `dialect` ('sqlite' or 'postgresql')."""
    wanted = set(tables) if tables is not None else set(APPEND_ONLY + NO_DELETE)
    statements: list[str] = [_PG_FUNCTION] if dialect == "postgresql" else []
    for table in APPEND_ONLY + NO_DELETE:
        if table not in wanted:
            continue
        operations = ("UPDATE", "DELETE") if table in APPEND_ONLY else ("DELETE",)
        why = "append-only" if table in APPEND_ONLY else "history is never deleted"
        for operation in operations:
            name = f"trg_{table}_no_{operation.lower()}"
            if dialect == "sqlite":
                statements.append(
                    f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{operation} on {table} refused: {why}'); END"
                )
            elif dialect == "postgresql":
                statements.append(
                    f"CREATE TRIGGER {name} BEFORE {operation} ON {table} FOR EACH ROW "
                    f"EXECUTE FUNCTION hotline_refuse_change('{why}')"
                )
        if dialect == "postgresql":
            # Row triggers do not see TRUNCATE.
            statements.append(
                f"CREATE TRIGGER trg_{table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION hotline_refuse_change('{why}')"
            )
    if dialect not in ("sqlite", "postgresql"):
        raise ValueError(f"no guards for dialect {dialect!r}")
    return statements


def drop_statements(dialect: str, tables: tuple[str, ...] | None = None) -> list[str]:
    wanted = set(tables) if tables is not None else set(APPEND_ONLY + NO_DELETE)
    statements: list[str] = []
    for table in APPEND_ONLY + NO_DELETE:
        if table not in wanted:
            continue
        operations = ["UPDATE", "DELETE"] if table in APPEND_ONLY else ["DELETE"]
        if dialect == "postgresql":
            operations.append("TRUNCATE")
        for operation in operations:
            name = f"trg_{table}_no_{operation.lower()}"
            on = f" ON {table}" if dialect == "postgresql" else ""
            statements.append(f"DROP TRIGGER IF EXISTS {name}{on}")
    if dialect == "postgresql" and tables is None:
        statements.append("DROP FUNCTION IF EXISTS hotline_refuse_change()")
    return statements


def install_guards(
    execute: Callable[[str], object], dialect: str, tables: tuple[str, ...] | None = None
) -> None:
    for statement in guard_statements(dialect, tables):
        execute(statement)


def remove_guards(
    execute: Callable[[str], object], dialect: str, tables: tuple[str, ...] | None = None
) -> None:
    for statement in drop_statements(dialect, tables):
        execute(statement)
