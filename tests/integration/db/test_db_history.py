"""Nothing is deleted implicitly: no cascades, append-only audit trails, kept history."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import async_session_factory, make_sync_engine
from db.models import (
    AuditLog,
    Call,
    CallEvent,
    Customer,
    CustomerPhone,
    Recording,
    Ticket,
    TicketCall,
    TicketEvent,
    metadata,
)

NOW = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)


async def _history(engine: AsyncEngine) -> dict[str, int]:
    """A customer with a phone, a call with an event and a recording, a ticket with an
    event linked to the call, and an audit entry. Returns the ids."""
    async with async_session_factory(engine)() as s:
        customer = Customer(name="赵敏", account_number="2100000067")
        s.add(customer)
        await s.flush()
        assert customer.id is not None
        s.add(CustomerPhone(customer_id=customer.id, number="13811112222"))
        call = Call(linkedid="1.1", started_at=NOW, customer_id=customer.id)
        s.add(call)
        await s.flush()
        assert call.id is not None
        s.add(CallEvent(call_id=call.id, at=NOW, kind="started"))
        recording = Recording(
            call_id=call.id, linkedid="1.1", path="2026/11/22/1.1.wav", started_at=NOW
        )
        s.add(recording)
        ticket = Ticket(
            number="GD20261122-000001",
            category="complaint",
            department="service_center",
            customer_id=customer.id,
            subject="抄表数据有误",
        )
        s.add(ticket)
        await s.flush()
        assert ticket.id is not None
        assert recording.id is not None
        call.recording_id = recording.id
        s.add(TicketEvent(ticket_id=ticket.id, action="created"))
        s.add(TicketCall(ticket_id=ticket.id, call_id=call.id))
        s.add(AuditLog(action="customer.read", object_type="customer", object_id=str(customer.id)))
        await s.commit()
        return {
            "customer": customer.id,
            "call": call.id,
            "ticket": ticket.id,
            "recording": recording.id,
        }


async def _count(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(sa.text(f"SELECT count(*) FROM {table}")))


async def test_given_a_customer_with_history_when_deleted_then_the_database_refuses(
    db_engine: AsyncEngine,
) -> None:
    ids = await _history(db_engine)
    async with db_engine.begin() as conn:
        with pytest.raises(IntegrityError):
            await conn.execute(
                sa.text("DELETE FROM customers WHERE id = :id"), {"id": ids["customer"]}
            )
    for table in ("customers", "customer_phones", "calls", "tickets", "ticket_calls"):
        assert await _count(db_engine, table) == 1, table


async def test_given_a_loaded_customer_when_deleted_through_the_orm_then_phones_are_not_orphaned(
    db_engine: AsyncEngine,
) -> None:
    ids = await _history(db_engine)
    async with async_session_factory(db_engine)() as s:
        customer = await s.get(Customer, ids["customer"])
        assert customer is not None
        assert len(customer.phones) == 1
        await s.delete(customer)
        with pytest.raises(IntegrityError):
            await s.commit()
    async with db_engine.connect() as conn:
        owner = await conn.scalar(sa.text("SELECT customer_id FROM customer_phones"))
    assert owner == ids["customer"]


@pytest.mark.parametrize(
    ("statement", "table"),
    [
        ("UPDATE ticket_events SET action = 'forged'", "ticket_events"),
        ("DELETE FROM ticket_events", "ticket_events"),
        ("UPDATE audit_log SET actor_name = 'nobody'", "audit_log"),
        ("DELETE FROM audit_log", "audit_log"),
        ("DELETE FROM tickets", "tickets"),
        ("DELETE FROM call_events", "call_events"),
        ("DELETE FROM recordings", "recordings"),
    ],
)
async def test_given_audit_and_history_tables_when_rewritten_then_the_database_refuses(
    db_engine: AsyncEngine, statement: str, table: str
) -> None:
    await _history(db_engine)
    before = await _count(db_engine, table)
    async with db_engine.begin() as conn:
        with pytest.raises(DBAPIError, match="refused"):
            await conn.execute(sa.text(statement))
    assert await _count(db_engine, table) == before == 1


# SQLite has no TRUNCATE; PostgreSQL's bypasses row triggers, so it has its own guard.
@pytest.mark.parametrize(
    "db_backend", [pytest.param("postgresql", marks=pytest.mark.integration)], indirect=True
)
async def test_given_postgresql_when_a_history_table_is_truncated_then_it_is_refused(
    db_engine: AsyncEngine,
) -> None:
    await _history(db_engine)
    async with db_engine.begin() as conn:
        with pytest.raises(DBAPIError, match="refused"):
            await conn.execute(sa.text("TRUNCATE ticket_events"))
    assert await _count(db_engine, "ticket_events") == 1


async def test_given_a_ticket_when_archived_then_it_stays_and_its_trail_grows(
    db_engine: AsyncEngine,
) -> None:
    ids = await _history(db_engine)
    async with async_session_factory(db_engine)() as s:
        ticket = await s.get(Ticket, ids["ticket"])
        assert ticket is not None
        ticket.archived, ticket.archived_at = True, NOW
        s.add(TicketEvent(ticket_id=ids["ticket"], action="archived", to_value="true"))
        await s.commit()
    assert await _count(db_engine, "tickets") == 1
    assert await _count(db_engine, "ticket_events") == 2


def test_no_foreign_key_deletes_or_updates_anything_in_the_models() -> None:
    actions = [
        (fk.parent.table.name, fk.parent.name, fk.ondelete, fk.onupdate)
        for table in metadata.tables.values()
        for fk in table.foreign_keys
    ]
    assert len(actions) > 30
    assert [a for a in actions if a[2] or a[3]] == []


def test_no_foreign_key_cascades_in_the_migrated_database(db_url: str) -> None:
    engine = make_sync_engine(db_url)
    try:
        inspector = sa.inspect(engine)
        found = [
            (table, fk["name"], fk.get("options", {}))
            for table in inspector.get_table_names()
            for fk in inspector.get_foreign_keys(table)
        ]
    finally:
        engine.dispose()
    assert len(found) > 30
    assert [f for f in found if f[2].get("ondelete") or f[2].get("onupdate")] == []
