"""The two FastAGI servers bench/ivr_fastagi.py measures, each run in its own process
(`bench/ivr_fastagi.py --serve hotline|echo`) on the default asyncio loop, as
`hotline serve` runs: Hotline's IvrFastAgiServer on the benchmark's database, and the
floor, a bare FastAGI server replaying recorded commands."""

from __future__ import annotations

import asyncio
import json
import resource
import signal
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# Open around the clock (the real clock, so that IVR worker processes agree with this one).
ALWAYS_OPEN = (
    "{" + ", ".join(f"{d}: [{{start: '00:00', end: '23:59:59.999999'}}]" for d in DAYS) + "}"
)


async def serve_hotline(
    port: int, db_url: str, stats: Path, ready: Path, workers: int = 1, redis_url: str = ""
) -> None:
    """Hotline's IVR as the Runtime builds it (hotline/wiring.py ivr_fastagi): one
    IvrFastAgiServer, or with `workers` > 1 IvrWorkers (ivr/workers.py: child processes
    on the same port, over the Redis bus). Lookups by phone are timed in this process.
    `ready` is written once every process listens (the port alone opens first)."""
    from db.engine import async_session_factory, make_async_engine
    from hotline import wiring
    from hotline.services import Services
    from ivr.driver import CallContext
    from ivr.fastagi import IvrFastAgiServer
    from ivr.script import Answer, Query, QueryKind
    from ivr.workers import IvrWorkers
    from kernel.bus import make_bus
    from kernel.config import load_settings
    from kernel.lifecycle import settle_heap

    sounds = tempfile.mkdtemp(prefix="bench-ivr-sounds-")  # nothing rendered: beeps
    env = {
        "HOTLINE_DATABASE__URL": db_url,
        "HOTLINE_PBX__FASTAGI__HOST": "127.0.0.1",
        "HOTLINE_PBX__FASTAGI__PORT": str(port),
        "HOTLINE_PBX__FASTAGI__WORKERS": str(workers),
        "HOTLINE_IVR__SOUNDS_DIR": sounds,
        "HOTLINE_BUSINESS_HOURS__WEEKLY": ALWAYS_OPEN,
        "HOTLINE_BUSINESS_HOURS__HOLIDAYS": "[]",
    }
    if redis_url:
        env["HOTLINE_REDIS__URL"] = redis_url
    settings = load_settings(REPO / "config.yaml", env=env)
    engine = make_async_engine(settings.database.url)
    bus = make_bus(settings.redis.url)
    services = Services(settings, bus, engine, async_session_factory(engine))
    component = wiring.ivr_fastagi(services)
    server = component.server if isinstance(component, IvrWorkers) else component
    assert isinstance(server, IvrFastAgiServer)
    directory, lookups = server.directory, []

    # Per lookup: wall time, this thread's CPU time, its major and minor page faults:
    # a slow lookup that used little CPU waited (off its core, or on a page fault).
    def usage() -> tuple[float, float, int, int]:
        r = resource.getrusage(resource.RUSAGE_THREAD)
        return time.perf_counter(), time.thread_time(), r.ru_majflt, r.ru_minflt

    # Timed only between SIGUSR1 and SIGUSR2 (the paced rounds, whose lookups the
    # benchmark reports): the getrusage calls cost the saturated rounds about 8 % of the
    # server's samples (py-spy), a cost the floor does not pay.
    timing = False

    class Timed:
        async def answer(self, query: Query, call: CallContext) -> Answer:
            if not timing or query.kind is not QueryKind.CUSTOMER_BY_PHONE:
                return await directory.answer(query, call)
            before = usage()
            try:
                return await directory.answer(query, call)
            finally:
                after = usage()
                lookups.append([a - b for a, b in zip(after, before, strict=True)])

    def start() -> None:  # SIGUSR1: time lookups from now on, afresh
        nonlocal timing
        lookups.clear()
        timing = True

    def dump() -> None:  # SIGUSR2: the lookups timed since SIGUSR1; timing stops
        nonlocal timing
        timing = False
        stats.write_text(json.dumps({"lookups": lookups}))
        lookups.clear()

    server.directory = Timed()
    # The handlers before the start: with workers the start waits for the children
    # (seconds), and a SIGUSR1 that came first would end this process (its default
    # action) -- the `--workers 2` run that "hung" lost its server that way.
    done = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, start)
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR2, dump)
    await component.start()
    settle_heap()  # as hotline/runtime.py serve_forever does once started
    _mark(ready, len(getattr(component, "children", ())) + 1)  # the processes serving
    await done.wait()
    await component.stop()
    await bus.close()
    await engine.dispose()


def _mark(ready: Path, processes: int) -> None:
    ready.write_text(str(processes))


async def serve_echo(port: int, scripts: dict[str, list[str]], ready: Path) -> None:
    """The floor: read the environment, then say the recorded commands one by one."""

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        env = {}
        while line := (await reader.readline()).strip():
            key, _, value = line.decode().partition(": ")
            env[key] = value
        for command in scripts[env.get("agi_arg_2", "known")]:
            writer.write(command.encode() + b"\n")
            if not await reader.readline():
                break
        writer.close()

    done = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
    server = await asyncio.start_server(session, "127.0.0.1", port)
    _mark(ready, 1)
    await done.wait()
    server.close()
