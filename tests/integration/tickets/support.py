"""Shared set-up for the tickets feature's database tests (test_tickets_*, test_kb_*,
test_import_*, test_webhooks_*, test_followup_*): Services on a migrated `db_url`
with an in-process bus and a FakeClock, and a few rows to act with."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from db.engine import async_session_factory, make_async_engine
from db.models import Customer, CustomerPhone, Role, Ticket, User
from hotline.services import Services
from kernel.audit import Actor
from kernel.bus.memory import MemoryBus
from kernel.clock import Clock, FakeClock
from kernel.config import load_settings

ROOT = Path(__file__).resolve().parents[3]
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# Wednesday 2026-11-18 09:00 in Shanghai: the center is open (08:00-20:00).
START = dt.datetime(2026, 11, 18, 9, 0, tzinfo=SHANGHAI)


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


async def make_services(
    db_url: str, *, clock: Clock | None = None, env: Mapping[str, str] | None = None
) -> AsyncIterator[Services]:
    settings = load_settings(
        ROOT / "config.yaml", env={"HOTLINE_DATABASE__URL": db_url, **(env or {})}
    )
    engine = make_async_engine(db_url)
    bus = MemoryBus()
    services = Services(
        settings=settings,
        bus=bus,
        engine=engine,
        sessions=async_session_factory(engine),
        clock=clock or FakeClock(START),
    )
    try:
        yield services
    finally:
        await bus.close()
        await engine.dispose()


async def add_user(
    services: Services,
    username: str,
    *,
    role: Role = Role.AGENT,
    department: str | None = None,
    extension: str | None = None,
) -> Actor:
    async with services.sessions() as s:
        user = User(
            username=username,
            display_name=f"坐席{username}",
            role=role,
            department=department,
            extension=extension,
            password_hash="x",
        )
        s.add(user)
        await s.commit()
        assert user.id is not None
        return Actor(user.id, user.display_name, role.value)


async def add_customer(
    services: Services, account: str, name: str, phones: list[str], *, district: str = "滨江区"
) -> int:
    async with services.sessions() as s:
        customer = Customer(name=name, account_number=account, district=district)
        s.add(customer)
        await s.flush()
        assert customer.id is not None
        for i, number in enumerate(phones):
            s.add(CustomerPhone(customer_id=customer.id, number=number, is_primary=i == 0))
        await s.commit()
        return customer.id


def tid(ticket: Ticket) -> int:
    """A stored ticket's id (typed: SQLModel ids are Optional until flushed)."""
    assert ticket.id is not None
    return ticket.id


# `async with services_for(db_url, ...) as services:` inside a test.
services_for = contextlib.asynccontextmanager(make_services)
