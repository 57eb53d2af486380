"""Bounded stopping (kernel/lifecycle.py) and the runtime's use of it: a component that
does not stop in time, or ignores its cancellation, cannot keep `hotline serve` from
exiting, and the components after it still stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

import pytest

from hotline import runtime
from kernel.config import load_settings
from kernel.lifecycle import cancel_and_wait, stop_within

REPO = Path(__file__).resolve().parents[3]


async def _deaf(released: asyncio.Event) -> None:
    """Ignores every cancellation until the test releases it."""
    while not released.is_set():
        with contextlib.suppress(asyncio.CancelledError):
            await released.wait()


async def _misses_one_cancel(cancels: list[int]) -> None:
    """Misses the first cancellation only (as a loop whose wait_for swallowed it)."""
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        cancels.append(1)
    await asyncio.Event().wait()


async def test_given_a_task_that_missed_its_cancel_then_it_is_cancelled_again() -> None:
    cancels: list[int] = []
    task = asyncio.create_task(_misses_one_cancel(cancels))
    await asyncio.sleep(0)
    assert await cancel_and_wait([task], what="loop", timeout=5)
    assert task.cancelled()
    assert cancels == [1]


async def test_given_a_task_that_ignores_cancel_then_it_is_left_behind_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    released = asyncio.Event()
    task = asyncio.create_task(_deaf(released), name="deaf-loop")
    await asyncio.sleep(0)
    began = time.monotonic()
    assert not await cancel_and_wait([task], what="deaf", timeout=0.3)
    assert time.monotonic() - began < 2
    assert "deaf-loop" in caplog.text
    assert "in _deaf" in caplog.text  # where it waits
    released.set()
    await task


async def test_given_a_stop_that_never_ends_then_stop_within_returns_false() -> None:
    began = time.monotonic()
    assert not await stop_within(asyncio.Event().wait(), 0.2, "never")
    assert time.monotonic() - began < 2


async def test_given_a_stop_that_fails_then_its_error_is_raised() -> None:
    async def fails() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await stop_within(fails(), 1, "fails")


class _Component:
    def __init__(self, name: str, how: str, stopped: list[str], released: asyncio.Event) -> None:
        self.name, self._how, self._stopped, self._released = name, how, stopped, released

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        if self._how == "hangs":
            await asyncio.Event().wait()
        elif self._how == "deaf":
            await _deaf(self._released)
            return
        self._stopped.append(self.name)


async def test_given_components_that_hang_when_runtime_stops_then_the_others_stop(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(runtime, "COMPONENT_STOP_SECONDS", 0.2)
    monkeypatch.setattr("kernel.lifecycle.CANCEL_GRACE_SECONDS", 0.2)
    stopped: list[str] = []
    released = asyncio.Event()
    rt = runtime.Runtime(settings=load_settings(REPO / "config.yaml", env={}))
    for name, how in [("first", "ok"), ("deaf", "deaf"), ("hangs", "hangs"), ("last", "ok")]:
        rt.components.append((name, _Component(name, how, stopped, released)))
    before = asyncio.all_tasks()
    began = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="kernel.lifecycle"):
        await rt.stop()
    assert time.monotonic() - began < 5
    assert stopped == ["last", "first"]
    assert rt.components == []
    assert "stopping hangs did not stop within 0.2s" in caplog.text
    assert "stopping deaf did not stop within 0.2s" in caplog.text
    assert "left behind" in caplog.text
    released.set()  # the deaf stop() the runtime left behind ends with the test
    await asyncio.gather(*(asyncio.all_tasks() - before - {asyncio.current_task()}))
