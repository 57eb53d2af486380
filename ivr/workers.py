"""IVR worker processes: several processes answer FastAGI on one port.

    pbx:
      fastagi:
        workers: 2        # default 1: the IVR runs in the backend's own process

One process's event loop is what limits the IVR under load (bench/ivr_fastagi.py,
saturated). With `workers: N` the Runtime's `ivr` component (hotline/wiring.py) is
`IvrWorkers`: this process's own IvrFastAgiServer plus N-1 child processes, each a
Runtime with only the `ivr` component, all listening on pbx.fastagi.host:port with
SO_REUSEPORT. The kernel spreads Asterisk's connections over them; one caller's menu
is one TCP session, so it stays in one process from its first command to its last.

- Children are started with the `spawn` method (a fresh interpreter: no event loop,
  socket or database connection is inherited) and get the Settings; each one says
  `Ready` once it listens, and `start()` returns when all have (or fails, bounded: a
  child that exits or does not listen within START_SECONDS is named with its exit
  code; the SIGTERM that follows ends a start in progress at once).
- Their events (a fault ticket's `ticket.*`, a campaign answer) must reach the other
  processes: workers > 1 needs the shared bus (`redis.url`), checked at start.
- A configuration reload starts a new set of children with the new settings, then
  stops the old ones, which let their callers finish the step they are in (the
  server's grace) -- the port is never without a listener.
- `stop()` sends SIGTERM to each child (its Runtime stops its server: calls in the
  menu get the grace, as in the parent), waits a bounded time, then kills.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Awaitable, Callable
from multiprocessing.process import BaseProcess
from typing import Any, Protocol

from ivr.fastagi import IvrFastAgiServer
from kernel.lifecycle import settle_heap

log = logging.getLogger("hotline.ivr.workers")
START_SECONDS = 60.0  # a child imports Hotline and opens its database: seconds
STOP_SECONDS = 10.0  # beyond the server's grace (5 s) for calls in the menu
PARENT_CHECK_SECONDS = 0.5  # how soon a worker whose parent died stops
# (settings, index, ready): run one worker until SIGTERM (hotline/wiring.py).
WorkerMain = Callable[[Any, int, Any], None]


class _Started(Protocol):
    async def stop(self) -> None: ...


class IvrWorkers:
    def __init__(self, server: IvrFastAgiServer, count: int, main: WorkerMain) -> None:
        self.server = server
        self.count = max(1, count)
        self._main = main
        self._children: list[BaseProcess] = []

    @property
    def children(self) -> list[BaseProcess]:
        return list(self._children)

    async def start(self) -> None:
        await self.server.start()
        try:
            self._children = await self._spawn(self.server.services.settings)
        except BaseException:
            await self.server.stop()
            raise

    async def reload(self) -> None:
        await self.server.reload()
        old, self._children = self._children, await self._spawn(self.server.services.settings)
        await asyncio.to_thread(_terminate, old)

    async def stop(self) -> None:
        """The children and this process's server stop together (each lets its callers
        finish their step), within the Runtime's bound for one component."""
        children, self._children = self._children, []
        await asyncio.gather(asyncio.to_thread(_terminate, children), self.server.stop())

    async def _spawn(self, settings: Any) -> list[BaseProcess]:
        ctx = multiprocessing.get_context("spawn")
        started: list[tuple[BaseProcess, Any]] = []
        try:
            for index in range(1, self.count):
                ready = Ready(ctx)
                child = ctx.Process(
                    target=self._main,
                    args=(settings, index, ready),
                    name=f"hotline-ivr-{index}",
                    daemon=True,  # never outlives this process
                )
                child.start()
                started.append((child, ready))
            await asyncio.to_thread(_wait_ready, started, START_SECONDS)
        except BaseException:
            await asyncio.to_thread(_terminate, [c for c, _ in started])
            raise
        log.info("IVR workers: %d processes on one FastAGI port", self.count)
        return [c for c, _ in started]


class Ready:
    """A worker's "I am listening" to its parent (`set` in the worker, `wait` in the
    parent). Not a multiprocessing.Event: Event.set() waits until every process waiting
    in Event.wait() has woken up (Condition.notify_all), so a parent killed while it
    waited left its worker blocked in set() for ever -- still listening on the FastAGI
    port, its event loop stopped, the connections the kernel gave it never answered (the
    `--workers 2` benchmark's hang: its server was killed by a stray SIGUSR1 during the
    start). A semaphore's release never waits for anyone."""

    def __init__(self, ctx: Any) -> None:
        self._semaphore = ctx.Semaphore(0)

    def set(self) -> None:
        self._semaphore.release()

    def wait(self, timeout: float) -> bool:
        if not self._semaphore.acquire(timeout=timeout):
            return False
        self._semaphore.release()  # stays set for the next wait
        return True


def _wait_ready(started: list[tuple[BaseProcess, Any]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for child, ready in started:
        while not ready.wait(0.1):
            if not child.is_alive():
                raise RuntimeError(f"IVR worker {child.name} exited at start ({child.exitcode})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"IVR worker {child.name} not listening after {timeout:.0f} s")


def _terminate(children: list[BaseProcess], timeout: float = STOP_SECONDS) -> None:
    for child in children:
        if child.is_alive():
            child.terminate()  # SIGTERM: the worker stops its Runtime
    deadline = time.monotonic() + timeout
    for child in children:
        child.join(max(0.0, deadline - time.monotonic()))
        if child.is_alive():
            log.warning("IVR worker %s did not stop in %.0f s: killed", child.name, timeout)
            child.kill()
            child.join(5)


def serve_worker(make: Callable[[], Awaitable[_Started]], ready: Any) -> None:
    """A worker process's body: build and start (`make`), tell the parent, run until
    SIGTERM (or SIGINT) or until the parent is gone, stop."""
    parent = os.getppid()

    async def orphaned(done: asyncio.Event) -> None:
        # A parent killed with SIGKILL sends no SIGTERM: a worker left behind would keep
        # answering on the FastAGI port with a stale configuration. Re-parented -> stop.
        while not done.is_set():
            if os.getppid() != parent:
                done.set()
                return
            await asyncio.sleep(PARENT_CHECK_SECONDS)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, done.set)
        watch = asyncio.create_task(orphaned(done))
        try:
            component = await _start_unless(make(), done)
            if component is None:
                return  # stopped while starting: nothing to tell the parent
            try:
                settle_heap()
                ready.set()
                await done.wait()
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(component.stop(), STOP_SECONDS)
        finally:
            watch.cancel()

    asyncio.run(run())


async def _start_unless(start: Awaitable[_Started], done: asyncio.Event) -> _Started | None:
    """The started component, or None when `done` is set first (a SIGTERM from a parent
    that gave up waiting, or the parent's death): the start is then cancelled instead of
    finishing first. A start that fails raises: the worker exits with its traceback and
    a non-zero code, which the parent reports (_wait_ready)."""
    starting = asyncio.ensure_future(start)
    stopping = asyncio.ensure_future(done.wait())
    try:
        await asyncio.wait((starting, stopping), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if starting.done():
        return starting.result()
    starting.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await starting
    return None
