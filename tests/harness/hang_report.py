"""When a test is about to hit pytest-timeout, print where every asyncio task waits.

pytest-timeout's own traceback of an async test shows only the event loop's select():
the await that never finished is in some task's stack. A watchdog thread wakes shortly
before the timeout and prints every running loop's tasks with their stacks (to stderr,
which pytest shows under the failed test). Diagnostics only: it changes nothing.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

import pytest

_MARGIN = 15.0  # seconds before pytest-timeout fires


def _running_loops() -> list[asyncio.AbstractEventLoop]:
    return [
        o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop) and o.is_running()
    ]


def dump_tasks(file: TextIO | None = None) -> None:
    out = file or sys.stderr
    for loop in _running_loops():
        for _ in range(3):  # all_tasks from another thread may race a task's creation
            try:
                tasks = list(asyncio.all_tasks(loop))
                break
            except RuntimeError:
                continue
        else:
            continue
        print(f"--- hang report: {len(tasks)} task(s) on {loop!r}", file=out)
        for task in tasks:
            print(f"{task.get_name()}:", file=out)
            for line in _await_chain(task.get_coro()):
                print(f"    {line}", file=out)


def _await_chain(coro: object) -> list[str]:
    """The task's whole await chain (Task.print_stack shows only its outermost frame)."""
    lines: list[str] = []
    while coro is not None and len(lines) < 40:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "ag_frame", None)
        if frame is None:
            lines.append(f"awaits {coro!r:.200}")
            break
        code = frame.f_code
        lines.append(f"{code.co_filename}:{frame.f_lineno} in {code.co_name}")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "ag_await", None)
    return lines


@pytest.fixture(autouse=True)
def _hang_report(request: pytest.FixtureRequest) -> Iterator[None]:
    marker = request.node.get_closest_marker("timeout")
    timeout = float(marker.args[0]) if marker and marker.args else 0.0
    timeout = timeout or float(request.config.getini("timeout") or 0)
    if timeout <= _MARGIN:
        yield
        return
    timer = threading.Timer(timeout - _MARGIN, dump_tasks)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
