"""The two FastAGI servers bench/ivr_fastagi.py measures, each run in its own process
(`bench/ivr_fastagi.py --serve hotline|echo`) on the default asyncio loop, as
`hotline serve` runs: Hotline's IvrFastAgiServer on the benchmark's database, and the
floor, a bare FastAGI server replaying recorded commands."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MONDAY_MORNING = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai: open


async def serve_hotline(port: int, db: Path, stats: Path) -> None:
    from db.engine import async_session_factory, make_async_engine
    from hotline.services import Services
    from ivr.driver import CallContext
    from ivr.fastagi import IvrFastAgiServer
    from ivr.script import Answer, Query, QueryKind
    from kernel.bus.memory import MemoryBus
    from kernel.clock import FakeClock
    from kernel.config import load_settings

    sounds = tempfile.mkdtemp(prefix="bench-ivr-sounds-")  # nothing rendered: beeps
    env = {
        "HOTLINE_DATABASE__URL": f"sqlite:///{db}",
        "HOTLINE_PBX__FASTAGI__HOST": "127.0.0.1",
        "HOTLINE_PBX__FASTAGI__PORT": str(port),
        "HOTLINE_IVR__SOUNDS_DIR": sounds,
    }
    settings = load_settings(REPO / "config.yaml", env=env)
    engine = make_async_engine(settings.database.url)
    services = Services(
        settings,
        MemoryBus(),
        engine,
        async_session_factory(engine),
        clock=FakeClock(MONDAY_MORNING),
    )
    server = IvrFastAgiServer(services)
    directory, lookups = server.directory, []

    class Timed:
        async def answer(self, query: Query, call: CallContext) -> Answer:
            t = time.perf_counter()
            try:
                return await directory.answer(query, call)
            finally:
                if query.kind is QueryKind.CUSTOMER_BY_PHONE:
                    lookups.append(time.perf_counter() - t)

    def dump() -> None:  # SIGUSR1: the lookups timed so far (if any), then start afresh
        if lookups:
            stats.write_text(json.dumps({"lookups": lookups}))
        lookups.clear()

    server.directory = Timed()
    await server.start()
    done = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump)
    await done.wait()
    await server.stop()
    await engine.dispose()


async def serve_echo(port: int, scripts: dict[str, list[str]]) -> None:
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

    server = await asyncio.start_server(session, "127.0.0.1", port)
    done = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
    await done.wait()
    server.close()
