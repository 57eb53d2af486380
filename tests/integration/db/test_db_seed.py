"""`hotline-dev seed` writes realistic, consistent demo data on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from db.engine import make_sync_engine
from db.models import Customer
from devtools.cli import main
from devtools.seed.customers import account_number_valid, generate_customers
from devtools.seed.staff import DEMO_PASSWORD
from devtools.seed.writer import seed_database
from kernel.config import load_settings

NOW = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)


def _scalar(url: str, sql: str, **params: object) -> object:
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()
    finally:
        engine.dispose()


def test_given_a_migrated_database_when_seeded_twice_then_customers_append_and_staff_is_kept(
    db_url: str,
) -> None:
    skills = [s.name for s in load_settings("config.yaml").skills]
    engine = make_sync_engine(db_url)
    progress = io.StringIO()
    try:
        first = seed_database(
            engine,
            customers=300,
            agents=4,
            seed=9,
            skills=skills,
            now=NOW,
            batch_size=128,
            progress_stream=progress,
        )
        second = seed_database(
            engine,
            customers=120,
            agents=4,
            seed=9,
            skills=skills,
            now=NOW,
            batch_size=128,
        )
    finally:
        engine.dispose()

    assert (first.customers, first.first_customer_id) == (300, 1)
    assert (second.customers, second.first_customer_id) == (120, 301)
    assert first.users_created == [
        "agent01",
        "agent02",
        "agent03",
        "agent04",
        "supervisor",
        "qa",
        "admin",
    ]
    assert second.users_created == []
    assert second.users_kept == first.users_created
    assert first.kb_articles >= 16
    assert first.notices >= 4
    assert (second.kb_articles, second.notices) == (0, 0)
    assert "customers" in progress.getvalue()
    assert "300/300" in progress.getvalue()

    assert _scalar(db_url, "SELECT count(*) FROM customers") == 420
    assert _scalar(db_url, "SELECT count(DISTINCT account_number) FROM customers") == 420
    assert _scalar(db_url, "SELECT count(*) FROM customer_phones") == first.phones + second.phones
    assert _scalar(db_url, "SELECT count(*) FROM users") == 7
    assert _scalar(db_url, "SELECT count(*) FROM kb_articles") == first.kb_articles
    assert _scalar(db_url, "SELECT min(level) >= 1 AND max(level) <= 10 FROM agent_skills") in (
        1,
        True,
    )
    assert _scalar(db_url, "SELECT count(*) FROM customers WHERE arrears > 0") > 0  # type: ignore[operator]
    account = str(_scalar(db_url, "SELECT account_number FROM customers WHERE id = 17"))
    assert account_number_valid(account)

    # A seeded phone finds its customer; a Chinese name is stored as such.
    number = _scalar(
        db_url, "SELECT number FROM customer_phones WHERE customer_id = 42 AND is_primary"
    )
    owner = _scalar(
        db_url,
        "SELECT min(c.id) FROM customers c JOIN customer_phones p ON p.customer_id = c.id "
        "WHERE p.number = :n",
        n=number,
    )
    assert owner is not None
    assert int(str(owner)) <= 42
    assert _scalar(db_url, "SELECT count(*) FROM customers WHERE address LIKE '滨江市%'") > 0  # type: ignore[operator]

    password_hash = str(
        _scalar(db_url, "SELECT password_hash FROM users WHERE username = 'agent01'")
    )
    assert password_hash.startswith("$argon2")
    assert PasswordHasher().verify(password_hash, DEMO_PASSWORD)

    # Ids were given explicitly: the database must still number new customers after them.
    engine = make_sync_engine(db_url)
    try:
        with engine.begin() as conn:
            new_id = conn.execute(
                sa.text(
                    "INSERT INTO customers (name, account_number, address, district, postcode, "
                    "tier, balance, arrears, language, created_at, updated_at) VALUES "
                    "('新客户', 'x-1', '', '', '', 'C', 0, 0, 'zh', :t, :t) RETURNING id"
                ),
                {"t": NOW if engine.dialect.name == "postgresql" else "2026-11-22 08:00:00"},
            ).scalar()
    finally:
        engine.dispose()
    assert new_id == 421


def test_given_the_seed_command_then_it_migrates_seeds_and_prints_the_demo_password(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "--config",
            "config.yaml",
            "seed",
            "--customers",
            "50",
            "--agents",
            "2",
            "--seed",
            "3",
            "--url",
            db_url,
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert "seeded 50 customers" in out
    assert DEMO_PASSWORD in out
    assert "customers" in err
    assert "100%" in err
    assert _scalar(db_url, "SELECT count(*) FROM customers") == 50
    assert _scalar(db_url, "SELECT count(*) FROM users WHERE extension LIKE '10%'") == 2  # agents
    # and one clerk per back-office department of config.yaml, without a phone
    clerks = "SELECT count(*) FROM users WHERE role = 'agent' AND extension IS NULL"
    assert _scalar(db_url, clerks) == 4


def test_given_the_same_seed_then_the_same_customers_exactly(db_url: str) -> None:
    engine = make_sync_engine(db_url)
    table = Customer.__table__  # type: ignore[attr-defined]
    columns = [table.c[k] for k in ("name", "account_number", "address", "balance", "arrears")]
    try:
        seed_database(
            engine,
            customers=80,
            agents=0,
            seed=11,
            skills=["general", "billing"],
            now=NOW,
            hash_password=lambda p: "$argon2id$not-a-real-hash",
        )
        with engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(sa.select(*columns).order_by(table.c.id))]
    finally:
        engine.dispose()
    expected = [
        (c["name"], c["account_number"], c["address"], c["balance"], c["arrears"])
        for c, _ in generate_customers(11, 1, 80, NOW)
    ]
    assert rows == expected
