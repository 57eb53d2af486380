"""An IVR worker process whose parent dies without telling it (SIGKILL: no SIGTERM
reaches the children) stops by itself within about a second: it must not keep taking
calls on the FastAGI port with a stale configuration (ivr/workers.py serve_worker)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

PARENT = """
import multiprocessing, sys, time
from ivr.workers import Ready, serve_worker

class Nothing:
    async def stop(self) -> None:
        pass

async def make():
    return Nothing()

def body(ready):
    serve_worker(make, ready)

if __name__ == "__main__":
    ctx = multiprocessing.get_context("spawn")
    ready = Ready(ctx)
    child = ctx.Process(target=body, args=(ready,))
    child.start()
    assert ready.wait(30)
    print(child.pid, flush=True)
    time.sleep(3600)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as gone.
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def run_script(tmp_path: Path, name: str, text: str) -> subprocess.CompletedProcess[str]:
    """Run `text` as a script of its own (spawned workers import it as __main__), bounded."""
    script = tmp_path / name
    script.write_text(text)
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=100,
    )


def test_given_a_worker_when_its_parent_is_killed_then_it_stops(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    child = 0
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)  # polling a process that is not ours to wait on
        assert not alive(child), "the worker outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)
        if parent.stdout is not None:
            parent.stdout.close()
        if child and alive(child):
            os.kill(child, signal.SIGKILL)


STUCK = """
import asyncio, multiprocessing, sys, time
from ivr.workers import Ready, _terminate, _wait_ready, serve_worker

def stuck(ready, starting):
    async def make():
        starting.set()  # inside the start, its signal handlers in place
        await asyncio.Event().wait()  # a start that never ends (a database that never answers)

    serve_worker(make, ready)

def broken(ready, starting):
    async def make():
        raise RuntimeError("cannot open the database")

    serve_worker(make, ready)

if __name__ == "__main__":
    ctx = multiprocessing.get_context("spawn")
    for body, wait in ((stuck, 3.0), (broken, 60.0)):  # broken: exits once imported
        ready, starting = Ready(ctx), Ready(ctx)
        child = ctx.Process(target=body, args=(ready, starting))
        child.start()
        if body is stuck:
            assert starting.wait(60)  # imported and starting: not a SIGTERM at import time
        try:
            _wait_ready([(child, ready)], wait)
            print("ready?!", flush=True)
        except RuntimeError as exc:
            print(exc, flush=True)
        t = time.monotonic()
        _terminate([child], timeout=10.0)
        print(child.exitcode, round(time.monotonic() - t, 1), flush=True)
"""


def test_given_a_worker_that_never_gets_ready_then_the_parent_fails_and_sigterm_ends_it(
    tmp_path: Path,
) -> None:
    """A worker stuck in its start fails the parent's wait (bounded, named), and the
    SIGTERM that follows ends the start at once (exit 0, not the kill after 10 s); a
    start that raises is reported with the worker's exit code."""
    done = run_script(tmp_path, "stuck.py", STUCK)
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stderr
    assert "not listening after 3 s" in lines[0]
    code, seconds = lines[1].split()
    assert code == "0", lines
    assert float(seconds) < 5, lines
    assert "exited at start (1)" in lines[2]
    assert "cannot open the database" in done.stderr


WAITER = """
import multiprocessing, sys, threading
from ivr.workers import Ready

def waits(started, ready):
    rounds = 0
    while not ready.wait(0.1):  # what the parent does while its workers start
        rounds += 1
        if rounds == 3:  # from now on nearly always inside wait()
            started.set()

if __name__ == "__main__":
    ctx = multiprocessing.get_context("spawn")
    started, ready = Ready(ctx), Ready(ctx)
    waiter = ctx.Process(target=waits, args=(started, ready))
    waiter.start()
    assert started.wait(60)
    waiter.kill()  # killed inside wait(), as a parent killed while its workers start
    waiter.join(10)
    setting = threading.Thread(target=ready.set, daemon=True)
    setting.start()
    setting.join(10)
    print("blocked" if setting.is_alive() else "set", flush=True)
"""


def test_given_a_parent_killed_while_waiting_then_the_worker_still_says_ready(
    tmp_path: Path,
) -> None:
    """The worker's "ready" never waits for the parent: with a multiprocessing.Event, a
    parent killed inside wait() left the worker blocked in set() for ever, listening on
    the FastAGI port without serving it (the benchmark's `--workers 2` hang)."""
    done = run_script(tmp_path, "waiter.py", WAITER)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["set"]
