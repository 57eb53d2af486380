"""customers/lookup.py on an in-memory SQLite database: who owns a phone number."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from customers import lookup
from db.engine import make_async_engine
from db.models import Customer, CustomerPhone, Tier, metadata


@pytest.fixture
async def session() -> AsyncIterator[AsyncSession]:
    engine = make_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    async with AsyncSession(engine, expire_on_commit=False) as s:
        # 13912345678 is shared: 王芳 (C, primary holder, added last) and 张伟 (A, oldest).
        for name, account, tier in (
            ("张伟", "1001", Tier.A),
            ("李娜", "1002", Tier.B),
            ("王芳", "1003", Tier.C),
        ):
            s.add(Customer(name=name, account_number=account, tier=tier))
        await s.commit()
        s.add(CustomerPhone(customer_id=1, number="13912345678"))
        s.add(CustomerPhone(customer_id=3, number="13912345678", is_primary=True))
        s.add(CustomerPhone(customer_id=2, number="02161234567", is_primary=True))
        await s.commit()
        yield s
    await engine.dispose()


async def test_given_a_shared_number_then_candidates_are_key_accounts_first(
    session: AsyncSession,
) -> None:
    found = await lookup.candidates(session, "+86 139 1234 5678")
    assert [c.name for c in found] == ["张伟", "王芳"]


async def test_given_a_shared_number_then_the_holder_is_its_primary_holder(
    session: AsyncSession,
) -> None:
    found = await lookup.holder(session, "0086-13912345678")
    assert found is not None
    assert found.name == "王芳"


async def test_given_an_unknown_or_empty_number_then_nobody(session: AsyncSession) -> None:
    assert await lookup.candidates(session, "13800000000") == []
    assert await lookup.candidates(session, "--") == []
    assert await lookup.holder(session, "") is None


async def test_given_a_landline_then_owner_ids_match_it(session: AsyncSession) -> None:
    ids = (await session.exec(lookup.owner_ids("02161234567"))).all()
    assert list(ids) == [2]
