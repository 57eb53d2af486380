"""A benchmark's own sandbox Asterisk 22, the same way for every benchmark that needs one
(bench/capacity_rig.py, bench/softphone.py, bench/routing_pbx.py): an instance named
bench-<kind>-<pid> from config.yaml's settings on free loopback ports with fresh
secrets, the benchmark's additions appended to that instance's configuration only, and
its removal afterwards (kept for a look with BENCH_KEEP=1). Also the text of a static
app_queue queue, the baseline of the benchmarks that compare Hotline's routing with
Asterisk's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from cti.ami.client import AmiClient
from devtools.services.asterisk import AsteriskInstance, free_udp_port, start_instance
from devtools.services.net import free_port
from kernel.config import load_settings

REPO = Path(__file__).resolve().parents[1]


def start(kind: str, **options: Any) -> AsteriskInstance:
    """A new sandbox instance bench-<kind>-<pid>; options go to start_instance
    (sip_password, agent_endpoint, ...)."""
    return start_instance(
        f"bench-{kind}-{os.getpid()}",
        settings=load_settings(REPO / "config.yaml", env={}),
        ami_port=free_port(),
        sip_port=free_udp_port(),
        fastagi_port=free_port(),
        ami_secret=secrets.token_hex(16),
        **options,
    )


def stop(pbx: AsteriskInstance) -> None:
    """Stop the instance and remove its directory (unless BENCH_KEEP is set)."""
    pbx.stop()
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(pbx.dir, ignore_errors=True)


@contextlib.contextmanager
def sandbox(kind: str, **options: Any) -> Iterator[AsteriskInstance]:
    pbx = start(kind, **options)
    try:
        yield pbx
    finally:
        stop(pbx)


def extend(
    pbx: AsteriskInstance, *, pjsip: str = "", queues: str = "", extensions: str = ""
) -> None:
    """Append a benchmark's additions to this instance's pjsip.conf, queues.conf and
    extensions.conf, reload what changed, and set verbose 0 as in production (verbose
    logging would bill every dialplan step)."""
    for name, text, reload in (
        ("pjsip.conf", pjsip, "module reload res_pjsip.so"),
        ("queues.conf", queues, "module reload app_queue.so"),
        ("extensions.conf", extensions, "dialplan reload"),
    ):
        if text:
            with (pbx.etc_dir / name).open("a", encoding="utf-8") as f:
                f.write(text)
            pbx.cli(reload)
    pbx.cli("core set verbose 0")


def listener(
    pbx: AsteriskInstance,
    on_event: Callable[[Any], None],
    events: set[str],
    *,
    username: str | None = None,
) -> AmiClient:
    """An AMI client of the benchmark's own on the instance (not started), handing
    `events` to on_event; username: another of the sandbox's AMI users."""
    return AmiClient(
        host=pbx.ami_host,
        port=pbx.ami_port,
        username=username or pbx.ami_username,
        secret=pbx.ami_secret,
        on_event=on_event,
        wanted_events=events,
    )


async def end_process(proc: asyncio.subprocess.Process, seconds: float) -> None:
    """SIGTERM, then SIGKILL if it has not ended within seconds; bounded either way."""
    if proc.returncode is not None:
        return
    proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), seconds)
    except TimeoutError:
        proc.kill()
        await asyncio.wait_for(proc.wait(), 10)


def static_queue(name: str, comment: str, strategy: str, members: Sequence[tuple[str, str]]) -> str:
    """queues.conf text of a queue whose members are static (interface, member name),
    ringing a free member at once and again at once when one does not answer, with no
    announcements and no wrap-up: Asterisk's own routing, for comparison."""
    lines = "".join(f"member => {iface},0,{member}\n" for iface, member in members)
    return f"""
[{name}]
; {comment}
strategy = {strategy}
joinempty = yes
leavewhenempty = no
ringinuse = no
timeout = 15
retry = 1
wrapuptime = 0
announce-frequency = 0
announce-position = no
announce-holdtime = no
{lines}"""
