"""Engine wiring, session behaviour under asyncio, ticket numbers, and the contracts the
schema shares with cti/ and config.yaml."""

from __future__ import annotations

import asyncio
import datetime as dt
import typing
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import selectinload
from sqlmodel import col, select

import kernel.calls
from db.engine import (
    UnsupportedDatabase,
    async_session_factory,
    database_url,
    make_async_engine,
    make_sync_engine,
)
from db.models import Call, CallEvent, Direction, Disposition, TicketPriority, User
from db.ticket_numbers import format_ticket_number, next_ticket_number
from kernel.config.care import TicketPriority as ConfigTicketPriority

NOW = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("configured", "sync", "async_"),
    [
        (
            "sqlite:///var/hotline.db",
            "sqlite:///var/hotline.db",
            "sqlite+aiosqlite:///var/hotline.db",
        ),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
        (
            "postgresql://hotline@db.example:5433/hotline",
            "postgresql+psycopg://hotline@db.example:5433/hotline",
            "postgresql+psycopg://hotline@db.example:5433/hotline",
        ),
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite+aiosqlite:///a.db", "sqlite:///a.db", "sqlite+aiosqlite:///a.db"),
    ],
)
def test_given_a_configured_url_then_the_drivers_are_chosen(
    configured: str, sync: str, async_: str
) -> None:
    assert database_url(configured, asynchronous=False).render_as_string(False) == sync
    assert database_url(configured, asynchronous=True).render_as_string(False) == async_


def test_given_an_unsupported_database_then_the_error_says_what_works() -> None:
    with pytest.raises(UnsupportedDatabase, match="sqlite:/// or postgresql://"):
        database_url("mysql://u@h/d", asynchronous=False)


async def test_given_a_sqlite_file_in_a_missing_directory_then_it_is_created_with_pragmas(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'deep' / 'hotline.db'}"
    engine = make_async_engine(url)
    try:
        async with engine.connect() as conn:
            pragmas = [
                (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("foreign_keys", "journal_mode", "busy_timeout", "synchronous")
            ]
    finally:
        await engine.dispose()
    assert pragmas == [1, "wal", 10_000, 2]
    assert (tmp_path / "var" / "deep" / "hotline.db").exists()
    sync = make_sync_engine(url)
    try:
        with sync.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        sync.dispose()


def test_db_enums_match_the_cti_bridge_and_config() -> None:
    # One definition (kernel/calls.py), shared by the tracker and the table.
    assert Disposition is kernel.calls.Disposition
    assert Direction is kernel.calls.Direction
    assert {p.value for p in TicketPriority} == set(typing.get_args(ConfigTicketPriority))


async def test_given_an_async_session_when_a_relationship_is_not_loaded_then_it_fails_loudly(
    db_engine: AsyncEngine,
) -> None:
    async with async_session_factory(db_engine)() as s:
        call = Call(linkedid="9.9", started_at=NOW)
        s.add(call)
        await s.flush()
        assert call.id is not None
        s.add_all([CallEvent(call_id=call.id, at=NOW, kind=k) for k in ("started", "ended")])
        await s.commit()
        call_id = call.id
    async with async_session_factory(db_engine)() as s:
        plain = (await s.exec(select(Call).where(Call.id == call_id))).one()
        with pytest.raises(InvalidRequestError, match="lazy='raise'"):
            _ = plain.events
    async with async_session_factory(db_engine)() as s:
        query = select(Call).where(Call.id == call_id).options(selectinload(Call.events))  # type: ignore[arg-type]
        loaded = (await s.exec(query)).one()
        assert sorted(e.kind for e in loaded.events) == ["ended", "started"]
        # expire_on_commit=False: attributes stay readable after commit without I/O.
        loaded.wrap_code = "resolved"
        await s.commit()
        assert loaded.linkedid == "9.9"


async def test_given_a_duplicate_linkedid_on_one_pbx_node_then_it_is_refused(
    db_engine: AsyncEngine,
) -> None:
    async with async_session_factory(db_engine)() as s:
        s.add(Call(linkedid="1700000000.1", started_at=NOW))
        s.add(Call(linkedid="1700000000.1", pbx_node="node-b", started_at=NOW))
        await s.commit()
    async with async_session_factory(db_engine)() as s:
        s.add(Call(linkedid="1700000000.1", started_at=NOW))
        with pytest.raises(sa.exc.IntegrityError):
            await s.commit()


async def test_given_concurrent_agents_when_numbering_tickets_then_numbers_are_unique_and_dense(
    db_engine: AsyncEngine,
) -> None:
    day = dt.date(2026, 11, 22)
    factory = async_session_factory(db_engine)

    async def one() -> str:
        async with factory() as s:
            number = await next_ticket_number(s, day)
            await s.commit()
            return number

    numbers = await asyncio.gather(*(one() for _ in range(20)))
    assert sorted(numbers) == [f"GD20261122-{i:06d}" for i in range(1, 21)]
    async with factory() as s:
        assert await next_ticket_number(s, dt.date(2026, 11, 23)) == "GD20261123-000001"
        await s.commit()


def test_ticket_number_format() -> None:
    assert format_ticket_number(dt.date(2026, 11, 22), 123) == "GD20261122-000123"


async def test_given_users_then_skills_load_eagerly_and_levels_are_checked(
    db_engine: AsyncEngine,
) -> None:
    from db.models import AgentSkill

    async with async_session_factory(db_engine)() as s:
        user = User(username="agent01", display_name="刘洋", password_hash="x", extension="1001")
        s.add(user)
        await s.flush()
        assert user.id is not None
        s.add(AgentSkill(user_id=user.id, skill="billing", level=7))
        await s.commit()
        user_id = user.id
    async with async_session_factory(db_engine)() as s:
        found = (await s.exec(select(User).where(col(User.id) == user_id))).one()
        assert [(k.skill, k.level) for k in found.skills] == [("billing", 7)]
        s.add(AgentSkill(user_id=user_id, skill="repair", level=11))
        with pytest.raises(sa.exc.IntegrityError):
            await s.commit()
