"""A ticket's placeholder and the call log writer's first row of the same call, made at
the same moment in two transactions, on SQLite and PostgreSQL: one record, whichever
comes first. The cluster demo logged 30 records for 29 calls when a new leader's
writer caught up on a call while the IVR linked a callback to it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from campaigns.engine_store import ensure_calls
from cti.calllog.writer import CALLS, CallLogWriter, ensure_call
from kernel.bus.memory import MemoryBus
from tests.support import eventually
from tests.unit.cti.test_calllog_nodes import started


class GatedSession(AsyncSession):
    """Commits only once the test opens the gate (a transaction held open)."""

    reached: asyncio.Event
    gate: asyncio.Event

    async def commit(self) -> None:
        self.reached.set()
        await self.gate.wait()
        await super().commit()


async def rows_of(engine: AsyncEngine, linkedid: str) -> list[tuple[int, str]]:
    async with engine.connect() as conn:
        found = await conn.execute(
            sa.select(CALLS.c.id, CALLS.c.pbx_node).where(CALLS.c.linkedid == linkedid)
        )
        return [(int(i), str(n)) for i, n in found.all()]


def statements_seen(engine: AsyncEngine, needle: str) -> asyncio.Event:
    """Set once a statement containing `needle` is sent (SQLite: it then waits on the
    one write lock; PostgreSQL's waits show in pg_locks)."""
    seen = asyncio.Event()
    loop = asyncio.get_running_loop()

    def hook(*args: Any) -> None:
        if needle in str(args[2]):
            loop.call_soon_threadsafe(seen.set)

    event.listen(engine.sync_engine, "before_cursor_execute", hook)
    return seen


async def blocked(engine: AsyncEngine, task: asyncio.Task[Any], sent: asyncio.Event) -> bool:
    """The task ended, or it waits on a lock the held transaction has."""
    if task.done():
        return True
    if engine.dialect.name != "postgresql":
        return sent.is_set()
    async with engine.connect() as conn:
        waiting = await conn.scalar(sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
    return bool(waiting)


async def held_while(
    engine: AsyncEngine,
    hold: Callable[[async_sessionmaker[AsyncSession]], Coroutine[Any, Any, Any]],
    other: Callable[[], Coroutine[Any, Any, Any]],
    needle: str,
) -> tuple[Any, Any]:
    """`hold` runs up to its commit and waits there; `other` runs meanwhile until it
    ends or waits on `hold`'s transaction; then `hold` commits. Both results."""
    sent = statements_seen(engine, needle)
    gated: async_sessionmaker[AsyncSession] = async_sessionmaker(
        engine, class_=GatedSession, expire_on_commit=False
    )
    GatedSession.reached, GatedSession.gate = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(hold(gated))
    await asyncio.wait_for(GatedSession.reached.wait(), 10)
    sent.clear()
    second = asyncio.create_task(other())
    try:
        await eventually(lambda: blocked(engine, second, sent), 10, "the other to end or wait")
    finally:
        GatedSession.gate.set()
    return await asyncio.wait_for(asyncio.gather(first, second), 20)


async def test_given_the_writer_s_first_row_uncommitted_then_a_ticket_links_that_row(
    db_engine: AsyncEngine,
) -> None:
    plain = async_sessionmaker(db_engine, class_=AsyncSession, expire_on_commit=False)

    async def writer_first(sessions: async_sessionmaker[AsyncSession]) -> None:
        await CallLogWriter(MemoryBus(), sessions).apply(started("na-7.1", "na"))

    async def ticket() -> int:
        async with plain() as session:
            call_id = await ensure_call(session, "na-7.1")  # no node: a ticket's link
            await session.commit()
        return call_id

    _, linked = await held_while(db_engine, writer_first, ticket, "INSERT INTO calls")
    assert await rows_of(db_engine, "na-7.1") == [(linked, "na")]


async def test_given_a_placeholder_uncommitted_then_the_writer_claims_it(
    db_engine: AsyncEngine,
) -> None:
    plain = async_sessionmaker(db_engine, class_=AsyncSession, expire_on_commit=False)

    async def ticket_first(sessions: async_sessionmaker[AsyncSession]) -> int:
        async with sessions() as session:
            call_id = await ensure_call(session, "nb-7.2")
            await session.commit()
        return call_id

    async def writer() -> None:
        await CallLogWriter(MemoryBus(), plain).apply(started("nb-7.2", "nb"))

    placeholder, _ = await held_while(db_engine, ticket_first, writer, "UPDATE calls")
    assert await rows_of(db_engine, "nb-7.2") == [(placeholder, "nb")]


async def test_given_the_writer_s_rows_uncommitted_then_a_campaign_links_them(
    db_engine: AsyncEngine,
) -> None:
    plain = async_sessionmaker(db_engine, class_=AsyncSession, expire_on_commit=False)
    linkedids = [f"na-8.{i}" for i in range(3)]

    async def writer_first(sessions: async_sessionmaker[AsyncSession]) -> None:
        writer = CallLogWriter(MemoryBus(), sessions)
        await writer.apply_batch([started(linkedid, "na") for linkedid in linkedids])

    async def campaign() -> dict[str, int]:
        async with plain() as session:
            ids = await ensure_calls(session, {linkedid: 1.0 for linkedid in linkedids})
            await session.commit()
        return ids

    _, linked = await held_while(db_engine, writer_first, campaign, "INSERT INTO calls")
    for linkedid in linkedids:
        assert await rows_of(db_engine, linkedid) == [(linked[linkedid], "na")]


async def test_the_writer_and_a_campaign_round_writing_the_same_calls_in_opposite_orders(
    db_engine: AsyncEngine,
) -> None:
    """The message campaign's run deadlocked about once in ten on PostgreSQL: its round
    made placeholders in sorted order while the call log writer upserted the same calls
    in its events' order, each waiting for the other's uncommitted row. Opposite orders,
    at the same moment: both finish, one record per call."""
    plain = async_sessionmaker(db_engine, class_=AsyncSession, expire_on_commit=False)
    for round_ in range(6):
        linkedids = [f"hlcp-{round_}-{i:02d}" for i in range(12)]

        async def writer(linkedids: list[str] = linkedids) -> None:
            events = [started(linkedid, None) for linkedid in reversed(linkedids)]
            await CallLogWriter(MemoryBus(), plain).apply_batch(events)

        async def campaign(linkedids: list[str] = linkedids) -> dict[str, int]:
            async with plain() as session:
                ids = await ensure_calls(session, {linkedid: 1.0 for linkedid in linkedids})
                await session.commit()
            return ids

        _, ids = await asyncio.wait_for(asyncio.gather(writer(), campaign()), 30)
        for linkedid in linkedids:
            assert await rows_of(db_engine, linkedid) == [(ids[linkedid], "default")]
