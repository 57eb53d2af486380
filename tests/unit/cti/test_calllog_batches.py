"""The call log writer takes the events waiting on the bus together: one transaction for
up to BATCH_MAX, in order, acknowledged once committed. A batch that fails is written
again one event at a time, so a busy database loses nothing (in-memory SQLite, the
in-process bus: the same group delivery as Redis)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cti.calllog import writer as writer_module
from cti.calllog.writer import CALLS, CallLogWriter
from kernel import topics
from kernel.bus.memory import MemoryBus
from tests.support import eventually

T0 = 1_763_800_000.0


def event(linkedid: str, seq: int, kind: str, **call: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "call_id": linkedid,
        "seq": seq,
        "at": T0 + seq,
        "call": {"call_id": linkedid, "started_at": T0, "caller_number": "13800000001", **call},
    }


def lifecycle(linkedid: str) -> list[dict[str, Any]]:
    return [
        event(linkedid, 1, "call.started"),
        event(linkedid, 2, "call.answered", answered_at=T0 + 2),
        event(linkedid, 3, "call.ended", answered_at=T0 + 2, ended_at=T0 + 3),
    ]


async def play(bus: MemoryBus, writer: CallLogWriter, *, calls: int) -> None:
    """Start the writer (its group exists from then on, so what is published waits for
    it), publish each call's three events, wait until all are written, stop."""
    await writer.start()
    try:
        for n in range(calls):
            for e in lifecycle(f"c-{n}"):
                await bus.publish(topics.CALL, e)
        await eventually(lambda: writer.applied == 3 * calls, 10, "the events written")
    finally:
        await writer.stop()


async def records(engine: AsyncEngine) -> dict[str, tuple[int, bool]]:
    """Linkedid -> (last_seq, ended)."""
    async with engine.connect() as conn:
        found = await conn.execute(sa.select(CALLS.c.linkedid, CALLS.c.last_seq, CALLS.c.ended_at))
        return {str(lid): (int(seq), ended is not None) for lid, seq, ended in found.all()}


async def test_given_events_waiting_then_they_are_written_together_in_order(
    engine: AsyncEngine,
) -> None:
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    bus = MemoryBus()
    writer = CallLogWriter(bus, sessions)
    sizes: list[int] = []
    batch = writer.apply_batch

    async def counted(events: list[dict[str, Any]]) -> None:
        sizes.append(len(events))
        await batch(events)

    writer.apply_batch = counted  # type: ignore[method-assign]
    await play(bus, writer, calls=100)
    assert sum(sizes) == 300
    assert max(sizes) > 1, sizes  # together, not one transaction per event
    assert max(sizes) <= writer_module.BATCH_MAX
    found = await records(engine)
    assert len(found) == 100
    # In order within a batch: every call ends on its last event, not an earlier one.
    assert set(found.values()) == {(3, True)}


async def test_given_a_batch_that_fails_then_each_event_is_written_on_its_own(
    engine: AsyncEngine,
) -> None:
    real = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    failures = 1

    def sessions() -> Any:  # the database refuses the first transaction (busy)
        nonlocal failures
        if failures:
            failures -= 1
            raise sa.exc.OperationalError("BEGIN", {}, Exception("database is locked"))
        return real()

    bus = MemoryBus()
    writer = CallLogWriter(bus, sessions)  # type: ignore[arg-type]
    await play(bus, writer, calls=5)
    assert failures == 0
    assert set((await records(engine)).values()) == {(3, True)}
    assert len(await records(engine)) == 5
