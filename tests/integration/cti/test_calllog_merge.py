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


def _story(linkedid: str) -> list[dict[str, Any]]:
    """A call's events as the bus may deliver them: a restart in the middle (resynced
    snapshots that merge), the old session's last one late, one event twice, a wrap-up,
    and for the calls ending in 2 no live end but a recovered one (an open row closed)."""
    known = {"caller_number": "13800000001", "skill": "repair", "priority": 7, "tier": "A"}
    known |= {"customer_id": "99999", "ivr_path": ["main", "fault"], "queued_at": T0 + 20}
    resynced = {"resynced": True, "queued_at": T0 + 21, "agents": ["1003"], "agent": "1003"}

    def ev(seq: int, **fields: Any) -> dict[str, Any]:
        got = live(seq, **fields)
        return {**got, "call_id": linkedid, "call": {**got["call"], "call_id": linkedid}}

    started = ev(compose(OLD, 5), **known)
    end = {} if linkedid.endswith("2") else {"ended_at": T0 + 90, "disposition": "answered"}
    events = [
        ev(compose(OLD, 1), caller_number="13800000001"),
        started,
        ev(compose(NEW, 2), **resynced, answered_at=T0 + 30),
        started,  # redelivered
        ev(compose(NEW, 3), **resynced, answered_at=T0 + 30, **end),
        {"type": "call.wrapped", "linkedid": linkedid, "wrap_seconds": 12, "wrap_code": "修好"},
        ev(compose(OLD, 6), **known),
    ]
    if linkedid.endswith("2"):
        closed = {**started["call"], "ended_at": T0 + 300, "disposition": "ended_unobserved"}
        seq = compose(NEW + 1, SPAN - 1)
        events.append({**ev(seq), "recovered": "unobserved", "call": closed})
    return events


async def test_a_batch_writes_what_its_events_one_by_one_write(db_engine: AsyncEngine) -> None:
    """The writer's batch is a few executemany statements (one per run of alike upserts):
    calls interleaved, merging and plain snapshots, a wrap-up between them and the same
    call twice in one run end as the same rows and timeline as one event at a time."""
    writer = CallLogWriter(MemoryBus(), async_session_factory(db_engine))
    stories = {n: (_story(f"one-{n}"), _story(f"all-{n}")) for n in range(3)}
    for one, _ in stories.values():
        for e in one:
            await writer.apply(e)
    batch = [all_ for _, all_ in stories.values()]
    shortest = min(len(x) for x in batch)
    interleaved = [e for step in zip(*(x[:shortest] for x in batch), strict=True) for e in step]
    interleaved += [e for x in batch for e in x[shortest:]]
    await writer.apply_batch(interleaved)

    async with db_engine.connect() as conn:
        rows = (await conn.execute(sa.select(CALLS))).mappings().all()
        timeline = (
            await conn.execute(
                sa.select(CALLS.c.linkedid, CALL_EVENTS.c.seq, CALL_EVENTS.c.kind).join(
                    CALLS, CALLS.c.id == CALL_EVENTS.c.call_id
                )
            )
        ).all()
    kept = ("id", "linkedid", "updated_at")
    by_call = {r["linkedid"]: {k: v for k, v in r.items() if k not in kept} for r in rows}
    for n in range(3):
        assert by_call[f"all-{n}"] == by_call[f"one-{n}"]
        mine = sorted((s, k) for lid, s, k in timeline if lid == f"all-{n}")
        assert mine == sorted((s, k) for lid, s, k in timeline if lid == f"one-{n}")
        assert len(mine) == len({e.get("seq") for e in stories[n][0] if "call" in e})
    assert by_call["all-1"]["wrap_code"] == "修好"
    assert str(by_call["all-2"]["disposition"].value) == "ended_unobserved"
    assert str(by_call["all-0"]["disposition"].value) == "answered"
