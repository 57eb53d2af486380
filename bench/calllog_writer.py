"""Call log writer benchmark: how many call events per second the writer stores.

    .venv/bin/python -m bench.calllog_writer [--events N] [--busy 0.8] [--db-url URL]

The same events (calls of 20 snapshots each, interleaved as the bus delivers them at
load, the customer and the agent known) go to a fresh database three ways, in the same
run:
  - batched: `CallLogWriter.apply_batch` on batches of 32, what `hotline serve` does;
  - one by one: `CallLogWriter.apply`, one event per transaction (the writer before it
    batched: the baseline);
  - floor: the same rows through SQLAlchemy Core in one executemany per batch on the
    same engine, no upsert rules, no timeline: what the database alone costs.
`--busy F` keeps the event loop busy a fraction F of the time (2 ms slices), as the
backend's loop is under load (83 % of a core at 12 calls/s): every statement's answer
waits for a loop turn then. Prints events/s each and the ratios; at 12 calls/s the bus
brings about 250 call events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from cti.calllog.mapping import call_row_values  # noqa: E402
from cti.calllog.writer import CALLS, CallLogWriter  # noqa: E402
from db.engine import async_session_factory, make_async_engine, make_sync_engine  # noqa: E402
from db.models import metadata  # noqa: E402
from kernel.bus.memory import MemoryBus  # noqa: E402
from kernel.clock import from_timestamp  # noqa: E402

T0 = 1_796_000_000.0
BATCH = 32
STEPS = 20  # snapshots per call
OPEN_CALLS = 40  # calls in progress at once: their events interleave


def workload(events: int, prefix: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n in range(events):
        call = (n // (OPEN_CALLS * STEPS)) * OPEN_CALLS + n % OPEN_CALLS
        seq = (n // OPEN_CALLS) % STEPS + 1
        linkedid = f"{prefix}-{call}"
        snapshot = {
            "call_id": linkedid,
            "started_at": T0 + call,
            "caller_number": "13800000001",
            "caller_name": "张伟",
            "customer_id": "1",
            "agent": "1001" if seq > 10 else None,
            "ivr_path": ["main", "balance"],
            "skill": "billing",
            "answered_at": T0 + call + 30 if seq > 10 else None,
            "ended_at": T0 + call + 60 if seq == STEPS else None,
            "disposition": "answered" if seq == STEPS else "in_progress",
        }
        out.append(
            {
                "type": "call.ended" if seq == STEPS else "call.step",
                "call_id": linkedid,
                "seq": seq,
                "at": T0 + call + seq,
                "pbx_node": "bench",
                "call": snapshot,
            }
        )
    return out


async def keep_busy(share: float, stop: asyncio.Event) -> None:
    if share <= 0:
        return
    slice_s = 0.002
    rest = slice_s * (1 - share) / share
    while not stop.is_set():
        until = time.perf_counter() + slice_s
        while time.perf_counter() < until:
            pass
        await asyncio.sleep(rest)


async def timed(share: float, work: Callable[[], Awaitable[None]]) -> float:
    stop = asyncio.Event()
    busy = asyncio.create_task(keep_busy(share, stop))
    start = time.perf_counter()
    try:
        await work()
    finally:
        elapsed = time.perf_counter() - start
        stop.set()
        await busy
    return elapsed


def prepare(url: str | None) -> str:
    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='calllog-bench-')}/calls.db"
    engine = make_sync_engine(url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(metadata.tables["customers"]),
            [{"id": 1, "name": "张伟", "account_number": "1000000018"}],
        )
        conn.execute(
            sa.insert(metadata.tables["users"]),
            [
                {
                    "id": 1,
                    "username": "a1001",
                    "display_name": "坐席",
                    "extension": "1001",
                    "password_hash": "-",
                }
            ],
        )
    engine.dispose()
    return url


async def run(events: int, share: float, url: str) -> dict[str, float]:
    engine = make_async_engine(url)
    sessions = async_session_factory(engine)
    writer = CallLogWriter(MemoryBus(), sessions)
    got: dict[str, float] = {}
    batched = workload(events, "b")
    single = workload(events, "s")
    floor_rows = [
        {
            **call_row_values(e["call"], seq=e["seq"], customer_id=1, agent_id=None),
            "pbx_node": "bench",
            "linkedid": f"{e['call_id']}-{i}",
            "updated_at": from_timestamp(time.time()),
        }
        for i, e in enumerate(workload(events, "f"))
    ]

    async def batches() -> None:
        for i in range(0, len(batched), BATCH):
            await writer.apply_batch(batched[i : i + BATCH])

    async def one_by_one() -> None:
        for e in single:
            await writer.apply(e)

    async def floor() -> None:
        for i in range(0, len(floor_rows), BATCH):
            async with engine.begin() as conn:
                await conn.execute(sa.insert(CALLS), floor_rows[i : i + BATCH])

    try:
        for name, work in (("batched", batches), ("one by one", one_by_one), ("floor", floor)):
            got[name] = events / await timed(share, work)
        async with engine.connect() as conn:
            ended = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(CALLS)
                .where(CALLS.c.linkedid.like("b-%"), CALLS.c.ended_at.is_not(None))
            )
        got["ended records"] = float(ended or 0)
    finally:
        await engine.dispose()
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--busy", type=float, default=0.8, help="share of the loop kept busy")
    parser.add_argument("--db-url", help="a database to use (its tables are recreated)")
    args = parser.parse_args()
    if args.events % (OPEN_CALLS * STEPS):
        parser.error(f"--events: a multiple of {OPEN_CALLS * STEPS}")
    url = prepare(args.db_url)
    print(f"call log writer: {args.events} events, loop busy {args.busy:.0%}, {url.split(':')[0]}")
    got = asyncio.run(run(args.events, args.busy, url))
    calls = args.events // STEPS
    for name in ("batched", "one by one", "floor"):
        print(f"  {name:<11} {got[name]:8.0f} events/s")
    print(f"  batched / one by one: {got['batched'] / got['one by one']:.1f}×")
    print(f"  batched / floor:      {got['batched'] / got['floor']:.2f}×")
    print(f"  calls ended in the batched records: {got['ended records']:.0f} of {calls}")
    if got["ended records"] != calls:
        sys.exit("the batched writer lost or left open a call record")


if __name__ == "__main__":
    main()
