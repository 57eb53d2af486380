"""The harness's promise (tests/harness/hang_report.py): a hung teardown fails its test
quickly, with the asyncio task report, and a run never hangs, even after the test itself
failed (when pytest-timeout is disarmed) and even when a task ignores its cancellation."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings = error
timeout = 300
teardown_timeout = 2
"""
CONFTEST = """
pytest_plugins = ["pytest_asyncio.plugin", "pytest_timeout", "tests.harness.hang_report"]
"""
HANGS = """
import asyncio
import time

import pytest


@pytest.fixture
async def stopped_never():
    yield
    await asyncio.Event().wait()  # a stop() that waits for something that never comes


@pytest.fixture
async def deaf_task():
    async def ignores_cancel():
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                pass

    task = asyncio.create_task(ignores_cancel())
    yield
    task.cancel()
    await task


async def test_fails_then_its_teardown_hangs(stopped_never):
    assert 1 == 2


async def test_passes_but_a_task_ignores_cancel(deaf_task):
    pass


def test_after_them_runs_normally():
    pass
"""
UNSTOPPABLE = """
import time

import pytest


@pytest.fixture
def ignores_everything():
    yield
    end = time.monotonic() + 120
    while time.monotonic() < end:
        try:
            time.sleep(0.1)
        except BaseException:
            pass


def test_teardown_cannot_be_interrupted(ignores_everything):
    pass
"""


@pytest.fixture
def sandbox(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # seconds of start-up saved
    pytester.makefile(".ini", pytest=INI)
    pytester.makeconftest(CONFTEST)
    return pytester


def test_given_hung_teardowns_then_they_fail_fast_with_the_task_report(
    sandbox: pytest.Pytester,
) -> None:
    sandbox.makepyfile(test_hangs=HANGS)
    began = time.monotonic()
    result = sandbox.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    took = time.monotonic() - began

    result.assert_outcomes(passed=2, failed=1, errors=2)
    assert took < 45, f"the hung teardowns took {took:.0f}s"
    out = result.stdout.str()
    assert "teardown of test_hangs.py::test_fails_then_its_teardown_hangs hung" in out
    assert "teardown of test_hangs.py::test_passes_but_a_task_ignores_cancel hung" in out
    # The report shows the await chains down to the line that waits.
    assert "--- hang report:" in out
    line = next(
        n for n, text in enumerate(HANGS.lstrip().splitlines(), 1) if "Event().wait()" in text
    )
    assert f"test_hangs.py:{line} in stopped_never" in out
    assert "in ignores_cancel" in out


def test_given_a_teardown_that_ignores_interrupts_then_the_process_exits(
    sandbox: pytest.Pytester,
) -> None:
    sandbox.makepyfile(test_unstoppable=UNSTOPPABLE)
    began = time.monotonic()
    result = sandbox.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    took = time.monotonic() - began

    assert result.ret == 70
    assert took < 45, f"the process took {took:.0f}s to give up"
    assert "could not be interrupted: exiting" in result.stderr.str()
    assert "in ignores_everything" in result.stderr.str()
