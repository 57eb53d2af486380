"""Components that `hotline serve` stops in turn (call-log writer, routing service, leader
election) stop within a bounded time, even when something inside them ignores its
cancellation: the process ends, and a test's teardown cannot hang (issue 11, a worker sat
25 minutes in a fixture's teardown)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from typing import Any

import pytest

from cti.calllog.writer import CallLogWriter
from cti.fake_pbx import FakePbx
from kernel import lifecycle
from kernel.bus.memory import MemoryBus
from kernel.clock import SystemClock
from kernel.leadership import LeaderElection
from routing.service import RoutingService
from tests.harness.http_app import api_services

GRACE = 0.5  # cancel_and_wait's grace in these tests (CANCEL_GRACE_SECONDS is 5 s)


@pytest.fixture(autouse=True)
def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle, "CANCEL_GRACE_SECONDS", GRACE)
    monkeypatch.setattr(lifecycle, "RECANCEL_SECONDS", 0.1)


async def _deaf(released: asyncio.Event) -> None:
    """Ignores every cancellation until released (a write stuck on a dead database whose
    driver swallows the cancel)."""
    while not released.is_set():
        with contextlib.suppress(asyncio.CancelledError):
            await released.wait()


async def _timed(stop: Awaitable[Any], released: asyncio.Event) -> float:
    """Seconds stop() took; asyncio.wait (not wait_for) so that an unbounded stop fails
    this test after 10 s instead of hanging it."""
    began = time.monotonic()
    task = asyncio.ensure_future(stop)
    done, _ = await asyncio.wait({task}, timeout=10)
    released.set()
    await task
    assert done, "stop() did not end within 10 s"
    return time.monotonic() - began


async def test_given_a_write_that_ignores_cancel_when_the_writer_stops_then_it_ends_in_time() -> (
    None
):
    released = asyncio.Event()
    bus = MemoryBus()

    class StuckWriter(CallLogWriter):
        async def apply(self, data: dict[str, Any]) -> None:
            await _deaf(released)

    writer = StuckWriter(bus, sessions=None)  # type: ignore[arg-type]  # never reached
    await writer.start()
    await bus.publish("call", {"type": "call.started", "call_id": "c1", "at": time.time()})
    await asyncio.sleep(0.05)  # the writer is inside apply()
    took = await _timed(writer.stop(), released)
    released.set()
    assert took < GRACE + 2, f"writer stop took {took:.1f}s"
    await bus.close()


@pytest.mark.parametrize("db_backend", ["sqlite"])
async def test_given_a_routing_task_that_ignores_cancel_when_routing_stops_then_it_ends(
    db_url: str,
) -> None:
    released = asyncio.Event()
    async with api_services(db_url, clock=SystemClock()) as s:
        s.pbx = FakePbx()
        router = RoutingService(s)
        await router.start()
        router.ctx.spawn(_deaf(released), "stuck-offer")
        took = await _timed(router.stop(), released)
        released.set()
    assert took < GRACE + 2, f"routing stop took {took:.1f}s"


async def test_given_a_leader_whose_stop_hook_hangs_when_it_stops_then_it_ends_in_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kernel import leadership as leader_module

    monkeypatch.setattr(leader_module, "STOP_SECONDS", GRACE)
    released = asyncio.Event()

    async def start() -> None:
        return None

    async def stop() -> None:
        await _deaf(released)

    # Port 9 (discard) on loopback: nothing listens, Redis calls fail at once.
    election = LeaderElection(
        "redis://127.0.0.1:9/0", "hotline:test:leader", start=start, stop=stop
    )
    await election.start()
    election.is_leader = True  # as if it had won the lock
    took = await _timed(election.stop(), released)
    released.set()
    assert not election.is_leader
    assert took < 2 * GRACE + 3, f"leader stop took {took:.1f}s"
