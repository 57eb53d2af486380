"""Bounded stopping: whatever a component does, stopping it ends within a known time.

`hotline serve` must stop when told to (and a test's teardown must end), so a stop()
that does not finish is cancelled, reported with where it waits, and left behind rather
than waited for without end.

Why not `asyncio.wait_for(stop(), t)`: on timeout it cancels the inner awaitable and then
waits, without a deadline, for the cancellation to finish; a task that does not end when
cancelled keeps it waiting forever. And before Python 3.12 wait_for itself drops a
cancellation that arrives in the loop iteration in which its inner future completes
(it returns the result instead), which is how a task loop can miss the cancel meant to
stop it. `asyncio.wait()` returns at its deadline whatever the tasks do, and a task still
running after a cancel is cancelled again (the lost cancellation re-delivered).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from kernel.clock import Clock

log = logging.getLogger("kernel.lifecycle")


class Fencing(Protocol):
    """kernel/fencing.py's Fence, as run_when_due sees it."""

    async def holds(self) -> bool: ...


class Component(Protocol):
    """What the composition root starts in order and stops in reverse."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


RECANCEL_SECONDS = 1.0  # a task still running this long after a cancel is cancelled again
CANCEL_GRACE_SECONDS = 5.0  # how long cancelled tasks get to end before they are left behind


async def cancel_and_wait(
    tasks: Iterable[asyncio.Future[Any]],
    *,
    what: str,
    timeout: float | None = None,
) -> bool:
    """Cancel `tasks` and wait at most `timeout` seconds (CANCEL_GRACE_SECONDS) for them
    to end.

    True when all ended. A task that ended with an exception other than a cancellation is
    logged (a stop reports, it does not raise). Tasks still running at the deadline are
    logged with their await chains and left behind.
    """
    loop = asyncio.get_running_loop()
    timeout = CANCEL_GRACE_SECONDS if timeout is None else timeout
    pending = {t for t in tasks if not t.done()}
    finished = [t for t in tasks if t.done()]
    deadline = loop.time() + timeout
    for task in pending:
        task.cancel()
    while pending:
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        done, pending = await asyncio.wait(pending, timeout=min(remaining, RECANCEL_SECONDS))
        finished.extend(done)
        for task in pending:
            task.cancel()
    for task in finished:
        if not task.cancelled() and task.exception() is not None:
            log.warning("%s: a task ended with %r", what, task.exception())
    if pending:
        log.error(
            "%s: %d task(s) still running %.1fs after cancel, left behind:\n%s",
            what,
            len(pending),
            timeout,
            "\n".join(describe(t) for t in pending),
        )
        return False
    return True


async def stop_within(stop: Awaitable[object], timeout: float, what: str) -> bool:
    """Run `stop` (a component's stop(), a close()) for at most `timeout` seconds.

    True when it finished in time; its exception, if any, is raised. Otherwise it is
    cancelled (see cancel_and_wait), logged, and False is returned.
    """
    task = asyncio.ensure_future(stop)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if done:
        task.result()
        return True
    log.error("%s did not stop within %.1fs; cancelling it:\n%s", what, timeout, describe(task))
    await cancel_and_wait([task], what=what)
    return False


def describe(task: asyncio.Future[Any]) -> str:
    """A task's name and where it waits, innermost last (Task.print_stack shows only its
    outermost frame)."""
    name = task.get_name() if isinstance(task, asyncio.Task) else repr(task)
    coro = task.get_coro() if isinstance(task, asyncio.Task) else None
    return "\n".join([f"{name}:", *(f"    {line}" for line in await_chain(coro))])


def await_chain(coro: object) -> list[str]:
    """File:line of each coroutine / async generator in `coro`'s await chain."""
    lines: list[str] = []
    while coro is not None and len(lines) < 40:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "ag_frame", None)
        if frame is None and type(coro).__name__ in (
            "async_generator_asend",
            "async_generator_athrow",
        ):
            # An `async for` / anext() step: its generator is only reachable through gc.
            agens = [r for r in gc.get_referents(coro) if inspect.isasyncgen(r)]
            if agens:
                coro = agens[0]
                continue
        if frame is None:
            lines.append(f"awaits {coro!r:.200}")
            break
        code = frame.f_code
        lines.append(f"{code.co_filename}:{frame.f_lineno} in {code.co_name}")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "ag_await", None)
    return lines


async def run_when_due(
    work: Callable[[], Awaitable[dt.datetime | None]],
    *,
    clock: Clock,
    stopping: asyncio.Event,
    wake: asyncio.Event,
    max_sleep: float,
    retry_seconds: float,
    what: str,
    fence: Fencing | None = None,
) -> None:
    """The loop of a background job that works when something falls due (the SLA
    monitor, the follow-up dialer, webhook deliveries): run `work`, which returns when the
    next thing is due (None: nothing known), then sleep until then, at most `max_sleep`,
    or until `wake` is set (a poke: something changed). A failing round is logged and
    tried again after `retry_seconds`; the loop ends when `stopping` is set.

    With a `fence` (a cluster duty: hotline/cluster.py) a round runs only while this
    process's term still holds (kernel/fencing.py): its effects (calls placed, HTTP
    posts) are outside the database, so the term is checked before each round."""
    while not stopping.is_set():
        wake.clear()  # a poke during the round wakes the next wait at once
        try:
            if fence is not None and not await fence.holds():
                log.warning("%s: skipped, this process's term of leadership is over", what)
                due = None
                delay = retry_seconds
            else:
                due = await work()
                delay = max_sleep
                if due is not None:
                    delay = min(max(0.0, (due - clock.now()).total_seconds()), max_sleep)
        except Exception:
            log.exception("%s failed; retrying in %.0f s", what, retry_seconds)
            delay = retry_seconds
        if stopping.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=delay)


def settle_heap() -> None:
    """Once a process has started (hotline/runtime.py serve_forever, an IVR worker in
    ivr/workers.py): what exists now (modules, settings, the menu) lives as long as the
    process, so it is put out of the collector's way (gc.freeze, after one collection so
    that no garbage is kept): the full collections that a busy IVR triggers no longer
    walk all of it."""
    gc.collect()
    gc.freeze()
