"""Small helpers for tests: wait on conditions with a deadline, never bare sleeps; stop
what a test started within a deadline, never without one."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable

from kernel.lifecycle import stop_within

TEARDOWN_STEP_SECONDS = 15.0


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], timeout: float = 10.0, what: str = ""
) -> None:
    """Poll `condition` until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        await asyncio.sleep(0.02)


async def bounded_teardown(
    *steps: tuple[str, Callable[[], Awaitable[object]]],
    timeout: float = TEARDOWN_STEP_SECONDS,
) -> None:
    """Run every step (name, stop function) for at most `timeout` seconds each, all of
    them even when one fails or hangs; then raise the first error, or fail naming the
    steps that hung, after printing the hang report (every task's await chain)."""
    from tests.harness.hang_report import hang_report  # a pytest plugin: loaded first

    hung: list[str] = []
    errors: list[BaseException] = []
    for name, stop in steps:
        try:
            if not await stop_within(_awaited(stop), timeout, name):
                hung.append(name)
                hang_report(f"teardown step {name!r} hung ({timeout:.0f}s)", sys.stderr)
        except Exception as exc:
            errors.append(exc)
    if errors:
        raise errors[0]
    if hung:
        raise AssertionError(f"teardown did not finish within {timeout:.0f}s: {', '.join(hung)}")


async def _awaited(stop: Callable[[], Awaitable[object]]) -> None:
    await stop()
