"""`hotline serve` as separate OS processes, for the cluster demo and the failover tests:
start one with a role and environment, read its log, wait for a line, stop it or kill it
with SIGKILL (a crash: no clean-up runs, the lease is not given back).

Each process writes its log to a file of its own (stdout and stderr together), so a
test can show what every process said when it fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LEADING = "leading the cluster duties"  # hotline/cluster.py's log line for a new term
STEPPED_DOWN = "stepping down"  # kernel/leadership.py's
STOP_SECONDS = 30.0


@dataclass
class ServeProcess:
    name: str
    role: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def terms(self) -> int:
        """How many times this process became the cluster's leader."""
        return self.log().count(LEADING)

    def leading(self) -> bool:
        """By its log: it became leader and has not stepped down since."""
        log = self.log()
        return self.alive() and log.rfind(LEADING) > log.rfind(STEPPED_DOWN)

    def alive(self) -> bool:
        return self.process.poll() is None

    async def wait_for(self, text: str, timeout: float, *, count: int = 1) -> float:
        """Wait until `text` appears `count` times in the log; returns when (monotonic)."""
        deadline = time.monotonic() + timeout
        while self.log().count(text) < count:
            if not self.alive():
                raise RuntimeError(
                    f"{self.name} exited ({self.process.returncode}):\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: no {text!r} within {timeout}s:\n{self.tail()}")
            await asyncio.sleep(0.05)
        return time.monotonic()

    def kill(self) -> None:
        """SIGKILL: the process ends at once, as in a crash or a lost machine."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.process.wait(STOP_SECONDS)

    async def stop(self) -> None:
        """SIGTERM (a clean stop), SIGKILL if it is still running after STOP_SECONDS."""
        if not self.alive():
            return
        self.process.terminate()
        try:
            await asyncio.to_thread(self.process.wait, STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


def start_serve(
    name: str,
    role: str,
    env: Mapping[str, str],
    log_dir: Path,
    *,
    config: Path | None = None,
) -> ServeProcess:
    """Start `hotline serve --role <role>` with `env` over this process's environment."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    argv = [sys.executable, "-m", "hotline.cli"]
    if config is not None:
        argv += ["--config", str(config)]
    argv += ["serve", "--role", role]
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=REPO,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C in the terminal reaches the demo, not these
        )
    return ServeProcess(name, role, process, log_path)
