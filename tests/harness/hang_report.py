"""A hung test fails, and says where it hangs; a run never waits without end.

pytest-timeout (ini `timeout`) bounds setup + call + teardown with one SIGALRM, with two
gaps that let a run hang for good (issue 11: a worker sat 25 minutes in a teardown):
- it disarms its timer as soon as a phase fails (its pytest_exception_interact hook,
  meant for pdb), so the teardown of a *failed* test runs without any bound;
- its exception is raised wherever the main thread is: inside an asyncio task's step
  the task keeps it as its result, and the hang goes on.
And its traceback of an async test shows only the event loop's select(): the await that
never finished is in some task's await chain.

So every test gets a watchdog thread:
- shortly before pytest-timeout fires it prints every asyncio task's await chain and
  every thread's stack (the hang report) to stderr, which pytest shows under the test;
- a teardown is bounded by its own `teardown_timeout` (ini, seconds), a setup or call by
  `timeout` + a grace: past that the report is printed and the main thread interrupted
  (SIGUSR2 -> the phase fails with "... hung") every INTERRUPT_EVERY seconds until the
  phase returns: each stuck fixture finaliser fails in turn, the test is reported;
- if interrupting does not help either (a finaliser that ignores exceptions, a C call
  that never returns), the report goes to the process's real stderr and the process
  exits (pytest-xdist reports the worker crashed on that test).

`kill -USR1 <pytest pid>` prints the hang report and the thread stacks (faulthandler, so
even a main thread stuck in C is shown) to the real stderr at any time: .ci/run's
watchdog does this before it gives up on a run.
"""

from __future__ import annotations

import asyncio
import faulthandler
import gc
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Generator
from types import FrameType
from typing import TextIO

import pytest

from kernel.lifecycle import describe

MARGIN = 15.0  # the early report comes this long before pytest-timeout fires
CALL_GRACE = 10.0  # pytest-timeout should have ended a setup or call by then
INTERRUPT_EVERY = 2.0
DEFAULT_TEARDOWN_TIMEOUT = 60.0
INTERRUPT = signal.SIGUSR2
DUMP = signal.SIGUSR1
EXIT_CODE = 70  # the last resort's exit status (EX_SOFTWARE)

_current: _Watch | None = None
_real_stderr: TextIO = sys.__stderr__ or sys.stderr


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "teardown_timeout",
        "seconds a test's teardown may take before it fails with the hang report",
        default=str(DEFAULT_TEARDOWN_TIMEOUT),
    )


def pytest_configure(config: pytest.Config) -> None:
    global _real_stderr
    # Output capture is suspended while plugins configure: fd 2 is the real stderr here.
    _real_stderr = os.fdopen(os.dup(2), "w", buffering=1, errors="replace")
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(INTERRUPT, _on_interrupt)
    signal.signal(DUMP, _on_dump)
    # faulthandler first (C level, works while the main thread is stuck in C), then
    # the Python handler above for the asyncio tasks, at the next bytecode.
    faulthandler.register(DUMP, file=_real_stderr, all_threads=True, chain=True)


# -- the report --------------------------------------------------------------------------


def _running_loops() -> list[asyncio.AbstractEventLoop]:
    return [
        o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop) and o.is_running()
    ]


def dump_tasks(file: TextIO | None = None) -> None:
    """Every running event loop's tasks with their await chains."""
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
            print(describe(task), file=out)


def dump_threads(file: TextIO | None = None) -> None:
    out = file or sys.stderr
    me = threading.get_ident()
    names = {t.ident: t.name for t in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        if ident != me:
            print(f"--- thread {names.get(ident, ident)}:", file=out)
            print("".join(traceback.format_stack(frame)), end="", file=out)


def hang_report(title: str, file: TextIO | None = None) -> None:
    out = file or sys.stderr
    print(f"=== {title}", file=out)
    dump_tasks(out)
    dump_threads(out)
    print("=== end of hang report", file=out, flush=True)


def _on_dump(signum: int, frame: FrameType | None) -> None:
    watch = _current
    where = f"{watch.nodeid} ({watch.phase})" if watch else "between tests"
    hang_report(f"hang report on SIGUSR1, pid {os.getpid()}: {where}", _real_stderr)


# -- the watchdog ------------------------------------------------------------------------


def _on_interrupt(signum: int, frame: FrameType | None) -> None:
    watch = _current
    if watch is None or watch.overdue_since is None:
        return  # late: the phase has ended meanwhile
    pytest.fail(
        f"{watch.phase} of {watch.nodeid} hung: still running {watch.limit():.0f}s after "
        "it began (the hang report is in its captured stderr)"
    )


class _Watch:
    def __init__(self, item: pytest.Item, timeout: float, teardown_timeout: float) -> None:
        self.nodeid = item.nodeid
        self.timeout = timeout
        self.teardown_timeout = teardown_timeout
        self.phase = "setup"
        self.phase_started = self.started = time.monotonic()
        self.overdue_since: float | None = None
        self._early_report = False
        self._done = threading.Event()
        self._lock = threading.Lock()  # phase changes (main thread) vs the checks
        self._main = threading.main_thread().ident
        self._thread = threading.Thread(target=self._run, name="hang-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join(5)

    def enter(self, phase: str) -> None:
        with self._lock:
            self.phase, self.phase_started, self.overdue_since = phase, time.monotonic(), None

    def limit(self) -> float:
        """Seconds the current phase may run, from its own start."""
        if self.phase == "teardown":
            return self.teardown_timeout
        if self.phase == "done" or not self.timeout:
            return float("inf")
        return self.started + self.timeout + CALL_GRACE - self.phase_started

    def _run(self) -> None:
        last_interrupt = 0.0
        while not self._done.wait(0.25):
            with self._lock:
                last_interrupt = self._check(time.monotonic(), last_interrupt)

    def _check(self, now: float, last_interrupt: float) -> float:
        """One look at the test; returns when the main thread was last interrupted."""
        early_at = self.started + self.timeout - MARGIN
        if self.timeout > MARGIN and not self._early_report and now >= early_at:
            self._early_report = True
            hang_report(f"{self.nodeid}: {MARGIN:.0f}s before pytest-timeout fires")
        if now - self.phase_started < self.limit():
            return last_interrupt
        if self.overdue_since is None:
            self.overdue_since = now
            hang_report(f"{self.phase} of {self.nodeid} hung ({self.limit():.0f}s)")
        if now - self.overdue_since > max(self.limit(), 3 * INTERRUPT_EVERY):
            hang_report(
                f"{self.phase} of {self.nodeid} could not be interrupted: exiting", _real_stderr
            )
            os._exit(EXIT_CODE)
        if now - last_interrupt >= INTERRUPT_EVERY and self._main is not None:
            signal.pthread_kill(self._main, INTERRUPT)
            return now
        return last_interrupt


def _item_timeout(item: pytest.Item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker is not None:
        value = marker.args[0] if marker.args else marker.kwargs.get("timeout")
        if value is not None:
            return float(value)
    try:
        return float(item.config.getini("timeout") or 0)
    except ValueError:  # pytest-timeout not loaded: no per-test timeout
        return 0.0


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    global _current
    if threading.current_thread() is not threading.main_thread():
        return (yield)
    watch = _Watch(item, _item_timeout(item), float(item.config.getini("teardown_timeout")))
    _current = watch
    watch.start()
    try:
        return (yield)
    finally:
        _current = None
        watch.stop()


def _phase(item: pytest.Item, phase: str) -> None:
    if _current is not None and _current.nodeid == item.nodeid:
        _current.enter(phase)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    _phase(item, "call")
    return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, object, object]:
    _phase(item, "teardown")
    try:
        return (yield)
    finally:
        _phase(item, "done")
