"""The call log writer on SQLite and PostgreSQL: seqs of several bridge sessions, resynced
snapshots that know less than the row, and recovered ends written once."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.calllog.writer import CALL_EVENTS, CALLS, CallLogWriter
from cti.cel.recovery import unobserved
from cti.sequence import SPAN, compose, generation_at
from cti.tracking.model import Call
from db.engine import async_session_factory
from kernel.bus.memory import MemoryBus
from kernel.calls import Disposition

T0 = 1_796_000_000.0
OLD = generation_at(T0)  # the session before the restart
NEW = generation_at(T0 + 600)  # the session after it


def live(seq: int, **fields: Any) -> dict[str, Any]:
    call = Call(call_id="c1", started_at=T0)
    for key, value in fields.items():
        setattr(call, key, Disposition(value) if key == "disposition" else value)
    return {"type": "call.x", "call_id": "c1", "seq": seq, "at": T0 + 1, "call": call.snapshot()}


async def row(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        found = (await conn.execute(sa.select(CALLS))).mappings().one()
    return dict(found)


async def test_given_a_call_spanning_a_restart_then_the_new_session_s_snapshots_apply(
    db_engine: AsyncEngine,
) -> None:
    writer = CallLogWriter(MemoryBus(), async_session_factory(db_engine))
    known = {
        "caller_number": "13800000001",
        "skill": "repair",
        "priority": 7,
        "customer_id": "4",
        "tier": "A",
        "language": "zh",
        "ivr_path": ["main", "fault"],
        "queued_at": T0 + 20,
    }
    await writer.apply(live(compose(OLD, 5), **known))
    # After the restart the tracker rebuilt the call from channels: estimates, no IVR.
    resynced = {"resynced": True, "queued_at": T0 + 21, "agents": ["1003"], "agent": "1003"}
    await writer.apply(live(compose(NEW, 2), **resynced, answered_at=T0 + 30))
    ended = live(
        compose(NEW, 3),
        **resynced,
        answered_at=T0 + 30,
        ended_at=T0 + 90,
        disposition="abandoned_ivr",  # the rebuilt call missed the queue it was in
    )
    await writer.apply(ended)
    await writer.apply(live(compose(OLD, 6), **known))  # the old session's last, late

    got = await row(db_engine)
    assert got["last_seq"] == compose(NEW, 3) > 2**31  # BIGINT on PostgreSQL
    assert str(got["disposition"].value) == "answered"
    assert (got["skill"], got["priority"], got["tier"], got["language"]) == ("repair", 7, "A", "zh")
    assert got["caller_number"] == "13800000001"
    assert got["ivr_path"] == ["main", "fault"]
    assert got["queued_at"].timestamp() == T0 + 20  # observed, not the resync's estimate
    assert got["answered_at"].timestamp() == T0 + 30
    assert got["ended_at"].timestamp() == T0 + 90
    assert got["agents"] == ["1003"]
    async with db_engine.connect() as conn:
        seqs = (await conn.execute(sa.select(CALL_EVENTS.c.seq))).scalars().all()
    assert sorted(seqs) == sorted(
        [compose(OLD, 5), compose(NEW, 2), compose(NEW, 3), compose(OLD, 6)]
    )


async def test_given_recovered_ends_then_only_an_open_row_is_closed_and_only_once(
    db_engine: AsyncEngine,
) -> None:
    writer = CallLogWriter(MemoryBus(), async_session_factory(db_engine))
    await writer.apply(live(compose(OLD, 3), caller_number="1390", skill="billing", queued_at=T0))
    snapshot = await _snapshot(db_engine)
    closed = unobserved(snapshot, T0 + 300)
    event = {"type": "call.ended", "call_id": "c1", "seq": compose(NEW, SPAN - 1)}
    await writer.apply({**event, "at": T0 + 300, "recovered": "unobserved", "call": closed})
    got = await row(db_engine)
    assert str(got["disposition"].value) == "ended_unobserved"
    assert (got["skill"], got["caller_number"]) == ("billing", "1390")

    # The old session's real end, delivered late by the bus, knows better: it wins.
    await writer.apply(
        live(
            compose(OLD, 4),
            caller_number="1390",
            skill="billing",
            queued_at=T0,
            ended_at=T0 + 50,
            disposition="abandoned_queue",
        )
    )
    got = await row(db_engine)
    assert str(got["disposition"].value) == "abandoned_queue"
    assert got["ended_at"].timestamp() == T0 + 50

    # A second recovery of a closed row changes nothing.
    again = {**closed, "ended_at": T0 + 999}
    await writer.apply(
        {**event, "seq": compose(NEW + 1, SPAN - 1), "recovered": "cel", "call": again}
    )
    assert (await row(db_engine))["ended_at"].timestamp() == T0 + 50


async def _snapshot(engine: AsyncEngine) -> dict[str, Any]:
    from cti.calllog.mapping import snapshot_from_row

    return snapshot_from_row(await row(engine))
