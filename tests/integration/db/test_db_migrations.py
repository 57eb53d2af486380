"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from db.engine import make_sync_engine
from db.migrate import current_revision, downgrade, head_revision, schema_diff, upgrade
from hotline.cli import main


def test_given_an_empty_database_when_upgraded_then_it_is_at_head_and_matches_the_models(
    empty_db_url: str,
) -> None:
    assert current_revision(empty_db_url) is None
    upgrade(empty_db_url)
    assert current_revision(empty_db_url) == head_revision()
    assert schema_diff(empty_db_url) == []


def test_given_a_migrated_database_when_downgraded_to_base_and_upgraded_then_no_diff(
    db_url: str,
) -> None:
    downgrade(db_url, "base")
    engine = make_sync_engine(db_url)
    try:
        tables = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()
    assert tables == set()
    upgrade(db_url)
    assert schema_diff(db_url) == []


def test_given_a_schema_that_drifted_from_the_models_then_the_diff_names_it(db_url: str) -> None:
    engine = make_sync_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP INDEX ix_customer_phones_number"))
    finally:
        engine.dispose()
    diff = schema_diff(db_url)
    assert [(d[0], d[1].name) for d in diff] == [("add_index", "ix_customer_phones_number")]


def test_given_hotline_migrate_when_run_twice_then_the_schema_is_current_and_check_passes(
    empty_db_url: str, capsys: object
) -> None:
    assert main(["migrate", "--url", empty_db_url]) == 0
    assert main(["migrate", "--url", empty_db_url]) == 0
    assert main(["migrate", "--url", empty_db_url, "--check"]) == 0
    assert current_revision(empty_db_url) == head_revision()


def test_given_an_empty_database_when_checked_then_hotline_migrate_check_fails(
    empty_db_url: str,
) -> None:
    assert main(["migrate", "--url", empty_db_url, "--check"]) == 1
