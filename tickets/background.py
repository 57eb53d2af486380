"""Stopping a component's background tasks without cutting a database write in half.

Cancelling a task while it awaits a database call can leave the connection to be reset
under a cancelled context (and an in-flight result unrecorded). Components therefore
stop in order: set their stopping flag and wake their loop, close their bus
subscriptions (a waiting get() ends with BusClosed), give the tasks `grace` seconds to
finish what they were doing, and only then cancel what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from kernel.bus.port import Subscription


async def stop_tasks(
    tasks: Iterable[asyncio.Task[None]],
    subscriptions: Iterable[Subscription] = (),
    grace: float = 10.0,
) -> None:
    pending = [t for t in tasks if not t.done()]
    for sub in subscriptions:
        with contextlib.suppress(Exception):
            await sub.close()
    if pending:
        _done, late = await asyncio.wait(pending, timeout=grace)
        for task in late:
            task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError):
            await task
