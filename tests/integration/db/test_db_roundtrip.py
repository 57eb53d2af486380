"""Values come back exactly as stored: Chinese text, aware UTC datetimes, money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TypeVar

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from db.engine import async_session_factory
from db.models import Call, CallEvent, Customer, Ticket, TicketEvent, TicketPriority
from db.types import NaiveDatetimeError

T = TypeVar("T")
BEIJING = dt.timezone(dt.timedelta(hours=8))
LEAK = "燃气泄漏，请尽快派人"


async def _fresh_read(engine: AsyncEngine, model: type[T], key: object) -> T:
    async with async_session_factory(engine)() as session:
        row = await session.get(model, key)
        assert row is not None
        return row


async def test_given_chinese_text_when_stored_then_it_round_trips_everywhere(
    db_engine: AsyncEngine,
) -> None:
    async with async_session_factory(db_engine)() as session:
        customer = Customer(
            name="欧阳娜娜",
            account_number="2100000018",
            address="滨江市东湖区人民路88号阳光花园3栋2单元1201室",
            district="东湖区",
            notes="老人独居，来电请放慢语速",
        )
        session.add(customer)
        await session.flush()
        ticket = Ticket(
            number="GD20261122-000001",
            category="repair",
            priority=TicketPriority.URGENT,
            department="repair_crew",
            customer_id=customer.id,
            subject=LEAK,
            description=f"用户报告：{LEAK}。地址：{customer.address}",
        )
        session.add(ticket)
        await session.flush()
        assert ticket.id is not None
        session.add(
            TicketEvent(ticket_id=ticket.id, actor_name="张伟", action="created", note=LEAK)
        )
        call = Call(
            linkedid="1763800000.42",
            caller_name="王芳",
            started_at=dt.datetime.now(dt.UTC),
            ivr_path=["main", "报修", "燃气泄漏"],
        )
        session.add(call)
        await session.flush()
        assert call.id is not None
        session.add(CallEvent(call_id=call.id, at=call.started_at, kind="ivr", data={"说": LEAK}))
        await session.commit()
        ids = customer.id, ticket.id, call.id

    got = await _fresh_read(db_engine, Customer, ids[0])
    assert (got.name, got.address, got.notes) == (
        "欧阳娜娜",
        "滨江市东湖区人民路88号阳光花园3栋2单元1201室",
        "老人独居，来电请放慢语速",
    )
    ticket_back = await _fresh_read(db_engine, Ticket, ids[1])
    assert ticket_back.subject == LEAK
    assert LEAK in ticket_back.description
    call_back = await _fresh_read(db_engine, Call, ids[2])
    assert call_back.ivr_path == ["main", "报修", "燃气泄漏"]
    assert call_back.caller_name == "王芳"
    async with db_engine.connect() as conn:
        # Found by SQL on the stored text, and JSON keeps the characters (not \\u escapes).
        found = await conn.scalar(
            sa.select(sa.func.count()).select_from(Ticket).where(col(Ticket.subject).like("燃气%"))
        )
        assert found == 1
        raw_path = await conn.scalar(
            sa.text("SELECT CAST(ivr_path AS TEXT) FROM calls WHERE id = :id"), {"id": ids[2]}
        )
        assert "燃气泄漏" in raw_path
        note = await conn.scalar(sa.select(TicketEvent.note))  # type: ignore[call-overload]
        assert note == LEAK


async def test_given_aware_datetimes_when_stored_then_they_come_back_as_the_same_instant_in_utc(
    db_engine: AsyncEngine,
) -> None:
    local = dt.datetime(2026, 11, 22, 9, 30, 15, 123456, tzinfo=BEIJING)
    async with async_session_factory(db_engine)() as session:
        call = Call(linkedid="a.1", started_at=local, answered_at=local + dt.timedelta(seconds=12))
        session.add(call)
        await session.commit()
        call_id = call.id
    back = await _fresh_read(db_engine, Call, call_id)
    assert back.started_at == local
    assert back.started_at.utcoffset() == dt.timedelta(0)
    assert back.started_at.tzinfo is not None
    assert back.started_at.hour == 1  # 09:30 in Beijing is 01:30 UTC
    assert back.answered_at == local + dt.timedelta(seconds=12)
    # Comparisons with bounds in another zone select by instant, not by wall clock.
    async with async_session_factory(db_engine)() as session:
        window = select(Call).where(
            col(Call.started_at) >= dt.datetime(2026, 11, 22, 1, 30, tzinfo=dt.UTC),
            col(Call.started_at) < dt.datetime(2026, 11, 22, 9, 31, tzinfo=BEIJING),
        )
        assert [c.id for c in (await session.exec(window)).all()] == [call_id]
        later = select(Call).where(col(Call.started_at) > local)
        assert (await session.exec(later)).all() == []


async def test_given_a_naive_datetime_when_stored_then_it_is_refused(
    db_engine: AsyncEngine,
) -> None:
    async with async_session_factory(db_engine)() as session:
        session.add(Call(linkedid="naive.1", started_at=dt.datetime(2026, 11, 22, 9, 30)))
        with pytest.raises(StatementError) as info:
            await session.commit()
        assert isinstance(info.value.orig, NaiveDatetimeError)
    async with db_engine.begin() as conn:
        with pytest.raises(StatementError):
            await conn.execute(
                sa.insert(Call).values(linkedid="naive.2", started_at=dt.datetime(2026, 1, 1))
            )
    async with db_engine.connect() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(Call)) == 0


@pytest.mark.parametrize(
    "amount",
    ["0.00", "0.01", "-0.01", "312.40", "1234567.89", "999999999999.99", "-999999999999.99"],
)
async def test_given_money_when_stored_then_it_comes_back_exactly(
    db_engine: AsyncEngine, amount: str
) -> None:
    async with async_session_factory(db_engine)() as session:
        customer = Customer(name="李雷", account_number="1", balance=Decimal(amount))
        session.add(customer)
        await session.commit()
        customer_id = customer.id
    back = await _fresh_read(db_engine, Customer, customer_id)
    assert isinstance(back.balance, Decimal)
    assert str(back.balance) == amount


async def test_given_many_amounts_when_summed_in_sql_then_the_total_is_exact(
    db_engine: AsyncEngine,
) -> None:
    amounts = [Decimal("0.10"), Decimal("0.20"), Decimal("0.70")] * 1000
    async with db_engine.begin() as conn:
        await conn.execute(
            sa.insert(Customer),
            [
                {"name": "x", "account_number": str(i), "arrears": a, "balance": Decimal(0)}
                for i, a in enumerate(amounts)
            ],
        )
    async with db_engine.connect() as conn:
        total = await conn.scalar(sa.select(sa.func.sum(col(Customer.arrears))))
        over = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(Customer)
            .where(col(Customer.arrears) > Decimal("0.19"))
        )
    assert total == Decimal("1000.00")
    assert str(total) == "1000.00"
    assert over == 2000


@pytest.mark.parametrize(
    ("amount", "error"),
    [(0.1, TypeError), (Decimal("0.001"), ValueError), (Decimal("1e13"), ValueError)],
)
async def test_given_inexact_money_when_stored_then_it_is_refused_not_rounded(
    db_engine: AsyncEngine, amount: object, error: type[Exception]
) -> None:
    async with async_session_factory(db_engine)() as session:
        session.add(Customer(name="韩梅梅", account_number="2", balance=amount))  # type: ignore[arg-type]
        with pytest.raises(StatementError) as info:
            await session.commit()
        assert isinstance(info.value.orig, error)
