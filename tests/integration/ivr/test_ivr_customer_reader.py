"""The IVR's customer read path (ivr/customer_reader.py) answers exactly what the ORM
directory (ivr/directory.py) answers, on SQLite and PostgreSQL, and sees changes at once."""

from __future__ import annotations

from decimal import Decimal

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
