"""The IVR's customer read path (ivr/customer_reader.py) answers exactly what the ORM
directory (ivr/directory.py) answers, on SQLite and PostgreSQL, and sees changes at once."""

from __future__ import annotations

import asyncio
import contextlib
import time
from decimal import Decimal

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import async_session_factory
from db.models import metadata
from hotline.services import Services
from ivr.customer_reader import CustomerReader
from ivr.directory import DbDirectory
from kernel.bus.memory import MemoryBus
from kernel.config import load_settings
from tests.integration.ivr.support import seed_ivr_customers
from tests.ivr_scenarios import LI, ZHANG, ZHANG_PHONE

pytestmark = pytest.mark.integration


async def _services(db_url: str, engine: AsyncEngine) -> Services:
    settings = load_settings("config.yaml", env={"HOTLINE_DATABASE__URL": db_url})
    return Services(settings, MemoryBus(), engine, async_session_factory(engine))


async def _add(services: Services) -> dict[int, int]:
    # Li shares Zhang's mobile, not as its primary holder.
    phones = {ZHANG: [(ZHANG_PHONE, True), ("059626123456", False)], LI: [(ZHANG_PHONE, False)]}
    return await seed_ivr_customers(services.sessions, phones)


async def test_reader_and_orm_directory_agree(db_url: str, db_engine: AsyncEngine) -> None:
    services = await _services(db_url, db_engine)
    ids = await _add(services)
    reader, orm = CustomerReader(services), DbDirectory(services)
    try:
        for number in (ZHANG_PHONE, "+86 139 1234 5678", "0596-2612 3456", "13800000000", ""):
            assert await reader.by_phone(number) == await orm.customer_by_phone(number)
        for account in (ZHANG.account_number, LI.account_number, "999", ""):
            assert await reader.by_account(account) == await orm.customer_by_account(account)
        # With the calendar's version: in one round trip on PostgreSQL, none elsewhere.
        version = await reader.calendar_version()
        for number in (ZHANG_PHONE, "13800000000", ""):
            found, read = await reader.by_phone_and_calendar(number)
            assert found == await orm.customer_by_phone(number)
            on_pg = db_url.startswith("postgresql") and number != ""
            assert read == (version if on_pg else None)
        zhang = await reader.by_phone(ZHANG_PHONE)
        assert zhang is not None
        assert (zhang.id, zhang.name, zhang.tier, zhang.language) == (
            ids[ZHANG.id],
            "张伟",
            "A",
            "zh",
        )
        assert (zhang.balance, zhang.arrears) == (Decimal("-312.40"), Decimal("312.40"))
        assert zhang.last_payment_on == ZHANG.last_payment_on
        li = await reader.by_account(LI.account_number)
        assert li is not None
        assert li.last_payment_amount is None
        assert li.language == "en"
    finally:
        await reader.close()


async def test_reader_sees_a_committed_change_at_once(db_url: str, db_engine: AsyncEngine) -> None:
    services = await _services(db_url, db_engine)
    ids = await _add(services)
    reader = CustomerReader(services)
    try:
        assert (await reader.by_phone(ZHANG_PHONE)) is not None  # the connection is open
        async with db_engine.begin() as conn:
            await conn.execute(
                sa.update(metadata.tables["customers"])
                .where(sa.column("id") == ids[ZHANG.id])
                .values(arrears=Decimal("0.00"), balance=Decimal("12.30"))
            )
            await conn.execute(
                sa.delete(metadata.tables["customer_phones"]).where(
                    sa.column("customer_id") == ids[ZHANG.id]
                )
            )
        moved = await reader.by_phone(ZHANG_PHONE)  # now only Li has that number
        assert moved is not None
        assert moved.id == ids[LI.id]
        zhang = await reader.by_account(ZHANG.account_number)
        assert zhang is not None
        assert (zhang.balance, zhang.arrears) == (
            Decimal("12.30"),
            Decimal("0.00"),
        )
    finally:
        await reader.close()


# -- PostgreSQL: the reply waited for on the loop's thread, bounded ----------------------


@pytest.mark.parametrize("db_backend", ["postgresql"])
async def test_pg_reader_through_the_loop_answers_the_same(
    db_url: str, db_engine: AsyncEngine
) -> None:
    """With no inline wait every reply is read through the event loop (the path a slow
    PostgreSQL takes): the same answers as the inline reader."""
    services = await _services(db_url, db_engine)
    await _add(services)
    inline, looped = CustomerReader(services), CustomerReader(services, pg_inline_wait=0)
    try:
        for number in (ZHANG_PHONE, "0596-2612 3456", "13800000000"):
            assert await looped.by_phone(number) == await inline.by_phone(number)
        for account in (ZHANG.account_number, LI.account_number, "999"):
            assert await looped.by_account(account) == await inline.by_account(account)
        assert await looped.calendar_version() == await inline.calendar_version()
    finally:
        await inline.close()
        await looped.close()


@pytest.mark.parametrize("db_backend", ["postgresql"])
async def test_pg_reader_stalled_by_a_lock_does_not_freeze_the_loop(
    db_url: str, db_engine: AsyncEngine
) -> None:
    """A lookup that PostgreSQL holds (here behind a table lock) is waited for on the
    loop's thread only for the inline budget: the loop goes on serving other work, and
    the lookup completes once the lock goes."""
    services = await _services(db_url, db_engine)
    await _add(services)
    reader = CustomerReader(services)
    held = 0.4
    try:
        assert await reader.by_phone(ZHANG_PHONE) is not None  # connected, statements ready
        gaps: list[float] = []
        async with db_engine.connect() as locker:
            await locker.execute(sa.text("BEGIN"))
            await locker.execute(sa.text("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE"))
            lookup = asyncio.ensure_future(reader.by_phone(ZHANG_PHONE))
            last = time.perf_counter()
            deadline = last + held
            while time.perf_counter() < deadline:
                await asyncio.sleep(0.005)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now
            assert not lookup.done()  # held by the lock all that time
            await locker.execute(sa.text("COMMIT"))
        found = await asyncio.wait_for(lookup, 10)
        assert found is not None
        assert found.name == "张伟"
        # The loop ticked all along: no gap near the time the lock was held.
        assert len(gaps) > 20
        assert max(gaps) < 0.1, max(gaps)
    finally:
        await reader.close()


@pytest.mark.parametrize("db_backend", ["postgresql"])
async def test_pg_reader_reconnects_after_losing_its_connection(
    db_url: str, db_engine: AsyncEngine
) -> None:
    """A connection the server dropped fails at most the lookup that found it dead, with
    psycopg's OperationalError; the next lookup opens a new one."""
    services = await _services(db_url, db_engine)
    await _add(services)
    reader = CustomerReader(services, pg_connections=1)
    try:
        assert await reader.by_phone(ZHANG_PHONE) is not None
        async with db_engine.connect() as admin:
            killed = await admin.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND application_name = ''"
                )
            )
            assert any(row[0] for row in killed)
        with contextlib.suppress(psycopg.OperationalError):
            await reader.by_phone(ZHANG_PHONE)
        again = await reader.by_phone(ZHANG_PHONE)
        assert again is not None
        assert again.name == "张伟"
    finally:
        await reader.close()
