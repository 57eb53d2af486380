"""Customers are found by any of their phone numbers, through the phone index."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from db.engine import async_session_factory
from db.models import Customer, CustomerPhone, PhoneKind
from db.phones import is_mobile, normalize_phone


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("13800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("0086-138-0013-8000", "13800138000"),
        ("013800138000", "13800138000"),  # trunk prefix before a mobile
        ("0596-2612 3456", "059626123456"),
        ("+86 596 2612 3456", "059626123456"),
        ("+86 10 6512 3456", "01065123456"),
        ("95777", "95777"),
        ("1001", "1001"),
    ],
)
def test_given_a_raw_number_then_it_normalizes_to_one_form(raw: str, normal: str) -> None:
    assert normalize_phone(raw) == normal


def test_mobile_numbers_are_recognized() -> None:
    assert is_mobile("13800138000")
    assert not is_mobile("12800138000")
    assert not is_mobile("059626123456")


async def _add(engine: AsyncEngine, name: str, account: str, numbers: list[str]) -> int:
    async with async_session_factory(engine)() as session:
        customer = Customer(name=name, account_number=account)
        session.add(customer)
        await session.flush()
        assert customer.id is not None
        for i, raw in enumerate(numbers):
            number = normalize_phone(raw)
            session.add(
                CustomerPhone(
                    customer_id=customer.id,
                    number=number,
                    kind=PhoneKind.MOBILE if is_mobile(number) else PhoneKind.LANDLINE,
                    is_primary=i == 0,
                )
            )
        await session.commit()
        return customer.id


async def _lookup(engine: AsyncEngine, caller_id: str) -> list[str]:
    async with async_session_factory(engine)() as session:
        query = (
            select(Customer)
            .join(CustomerPhone)
            .where(CustomerPhone.number == normalize_phone(caller_id))
            .order_by(col(Customer.id))
        )
        return [c.name for c in (await session.exec(query)).all()]


async def test_given_customers_with_several_phones_when_a_caller_id_arrives_then_it_finds_them(
    db_engine: AsyncEngine,
) -> None:
    zhang = await _add(db_engine, "张伟", "2100000018", ["138 0013 8000", "0596-26123456"])
    await _add(db_engine, "Emma Wilson", "2100000026", ["+86 139 0000 1111"])
    # A family: the son's account shares the mother's mobile.
    await _add(db_engine, "张小明", "2100000034", ["13800138000", "15900001234"])

    assert await _lookup(db_engine, "8613800138000") == ["张伟", "张小明"]
    assert await _lookup(db_engine, "059626123456") == ["张伟"]
    assert await _lookup(db_engine, "13900001111") == ["Emma Wilson"]
    assert await _lookup(db_engine, "15900001234") == ["张小明"]
    assert await _lookup(db_engine, "13700000000") == []

    async with async_session_factory(db_engine)() as session:
        customer = await session.get(Customer, zhang)
        assert customer is not None
        # phones load eagerly: no lazy I/O under asyncio.
        assert sorted(p.number for p in customer.phones) == ["059626123456", "13800138000"]


async def test_given_the_same_number_twice_for_one_customer_then_it_is_refused(
    db_engine: AsyncEngine,
) -> None:
    customer_id = await _add(db_engine, "李娜", "2100000042", ["13600000000"])
    async with async_session_factory(db_engine)() as session:
        session.add(CustomerPhone(customer_id=customer_id, number="13600000000"))
        with pytest.raises(sa.exc.IntegrityError):
            await session.commit()


async def test_phone_lookup_uses_the_number_index(db_engine: AsyncEngine, db_backend: str) -> None:
    await _add(db_engine, "王芳", "2100000059", ["13500000000"])
    async with db_engine.connect() as conn:
        if db_backend == "sqlite":
            plan = await conn.execute(
                sa.text(
                    "EXPLAIN QUERY PLAN SELECT customer_id FROM customer_phones WHERE number = :n"
                ),
                {"n": "13500000000"},
            )
            detail = " ".join(str(row[-1]) for row in plan)
        else:
            await conn.execute(sa.text("SET enable_seqscan = off"))
            plan = await conn.execute(
                sa.text("EXPLAIN SELECT customer_id FROM customer_phones WHERE number = :n"),
                {"n": "13500000000"},
            )
            detail = " ".join(str(row[0]) for row in plan)
    assert "ix_customer_phones_number" in detail
