"""The loop of the background jobs that work when something falls due (SLA monitor,
follow-up dialer, webhook deliveries): it sleeps until the next due time, wakes at once
when poked, survives a failing round and ends when told."""

from __future__ import annotations

import asyncio
import datetime as dt

from kernel.clock import FakeClock
from kernel.lifecycle import run_when_due
from tests.support import eventually


async def test_given_rounds_then_it_sleeps_until_due_wakes_on_a_poke_and_survives_failures() -> (
    None
):
    clock = FakeClock()
    stopping, wake = asyncio.Event(), asyncio.Event()
    rounds: list[str] = []

    async def work() -> dt.datetime | None:
        rounds.append("round")
        if len(rounds) == 2:
            raise RuntimeError("the database is away")
        return clock.now() + dt.timedelta(hours=1)  # far away: only a poke brings it back

    loop = asyncio.create_task(
        run_when_due(
            work,
            clock=clock,
            stopping=stopping,
            wake=wake,
            max_sleep=3600,
            retry_seconds=0.05,
            what="test round",
        )
    )
    await eventually(lambda: len(rounds) == 1, 2, "the first round")
    await asyncio.sleep(0.1)
    assert len(rounds) == 1  # sleeping until due, not spinning
    wake.set()  # a poke: round 2 fails, round 3 follows after retry_seconds
    await eventually(lambda: len(rounds) == 3, 2, "a poke, a failure, a retry")
    stopping.set()
    wake.set()
    await asyncio.wait_for(loop, 2)
    assert loop.exception() is None
