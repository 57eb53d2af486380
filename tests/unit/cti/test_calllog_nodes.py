"""The call log with several Asterisk nodes, on in-memory SQLite: a call's row is keyed
by its node; a row a ticket made before the call's first event (ensure_call without a
node) becomes that call's row, never a second record."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cti.calllog.writer import CALLS, CallLogWriter, ensure_call
from kernel.bus.memory import MemoryBus

T0 = 1_763_800_000.0


def started(linkedid: str, node: str | None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "call.started",
        "call_id": linkedid,
        "seq": 1,
        "at": T0,
        "call": {"call_id": linkedid, "started_at": T0, "caller_number": "13800000001"},
    }
    if node:
        event["pbx_node"] = node
    return event


async def rows(engine: AsyncEngine) -> list[tuple[int, str, str]]:
    async with engine.connect() as conn:
        found = await conn.execute(sa.select(CALLS.c.id, CALLS.c.pbx_node, CALLS.c.linkedid))
        return [(int(i), str(n), str(lid)) for i, n, lid in found.all()]


async def test_a_placeholder_made_before_the_first_event_becomes_the_calls_row(
    engine: AsyncEngine,
) -> None:
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    async with sessions() as session:
        placeholder = await ensure_call(session, "na-1.1")  # a ticket links the call
        await session.commit()
    writer = CallLogWriter(MemoryBus(), sessions)
    await writer.apply(started("na-1.1", "na"))
    await writer.apply({**started("na-1.1", "na"), "type": "call.answered", "seq": 2})
    assert await rows(engine) == [(placeholder, "na", "na-1.1")]
    async with sessions() as session:  # a later link finds it on its node
        assert await ensure_call(session, "na-1.1") == placeholder


async def test_calls_of_two_nodes_are_two_rows_and_untagged_events_keep_the_default(
    engine: AsyncEngine,
) -> None:
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    writer = CallLogWriter(MemoryBus(), sessions)
    await writer.apply(started("na-1.1", "na"))
    await writer.apply(started("nb-1.1", "nb"))
    await writer.apply(started("CA0123", None))  # Twilio's calls name no node
    assert sorted((n, lid) for _, n, lid in await rows(engine)) == [
        ("default", "CA0123"),
        ("na", "na-1.1"),
        ("nb", "nb-1.1"),
    ]
    await writer.apply({"type": "call.wrapped", "linkedid": "nb-1.1", "wrap_seconds": 7})
    async with engine.connect() as conn:
        wrap = await conn.execute(
            sa.select(CALLS.c.wrap_seconds).where(CALLS.c.linkedid == "nb-1.1")
        )
        assert wrap.scalar_one() == 7
