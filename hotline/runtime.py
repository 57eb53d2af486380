"""The composition root: builds one backend process from Settings.

Everything is created here (bus, database engine, PBX link, features) and handed down;
no feature builds its own globals. Features are components with async start()/stop(),
started in order and stopped in reverse, so a failing start leaves nothing running.

Roles: `all` (one machine: bridge + IVR + routing + API), `api` (HTTP/websockets only,
several may run behind a proxy), `pbx` (the AMI bridge, FastAGI and routing; the bridge
itself only runs while this process holds the leader lock, see cti/leader.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cti.commands import PbxCommands
from db.engine import async_session_factory, make_async_engine
from hotline import wiring
from hotline.services import Services
from kernel.bus import make_bus
from kernel.bus.port import EventBus
from kernel.clock import Clock, SystemClock
from kernel.config import Settings
from kernel.lifecycle import Component, stop_within

log = logging.getLogger("hotline")
# Longer than the longest grace a component gives its own work when stopping (webhook
# deliveries: 15 s, integrations/webhooks.py).
COMPONENT_STOP_SECONDS = 20.0

API = frozenset({"all", "api"})
PBX = frozenset({"all", "pbx"})

# (name, roles that run it, factory), in start order; stopped in reverse.
# The live view starts before the bridge so that it hears the bridge's first resync
# (pbx.connected lists the calls Asterisk has: supervisor/live_service.py).
COMPONENTS: tuple[tuple[str, frozenset[str], Callable[[Services], Component]], ...] = (
    ("live", API, wiring.supervisor_live),
    ("call_log", PBX, wiring.call_log),
    ("bridge", PBX, wiring.pbx_bridge),
    ("routing", PBX, wiring.routing),
    ("ivr", PBX, wiring.ivr_fastagi),
    ("tickets", PBX, wiring.tickets),
    ("recordings", PBX, wiring.recordings),
    ("http", API, wiring.http),
)
NAMES = frozenset(name for name, _, _ in COMPONENTS)


@dataclass
class Infrastructure:
    """What a process is built on: the bus, the database and the clock. The Runtime makes
    its own from Settings; a test or a benchmark may hand in one it prepared (and keeps:
    the Runtime then closes neither the bus nor the engine)."""

    bus: EventBus
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock = field(default_factory=SystemClock)
    # PBX commands for a process without a bridge of its own (a test's fake PBX); the
    # bridge component, where it runs, puts its own.
    pbx: PbxCommands | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Infrastructure:
        engine = make_async_engine(settings.database.url)
        return cls(make_bus(settings.redis.url), engine, async_session_factory(engine))


@dataclass
class Runtime:
    """One backend process. `role` picks the components (all / api / pbx); `only`, a
    subset of their names (a test that needs the call log and the bridge, say);
    `infrastructure`, a prepared bus and database instead of new ones."""

    settings: Settings
    role: str = "all"
    infrastructure: Infrastructure | None = None
    only: Collection[str] | None = None
    migrate: bool = True
    services: Services | None = None
    components: list[tuple[str, Component]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.only is not None and not set(self.only) <= NAMES:
            raise ValueError(f"unknown components {sorted(set(self.only) - NAMES)}")

    async def start(self) -> Services:
        from db.migrate import upgrade

        s = self.settings
        if self.migrate:
            # Migrations are blocking (Alembic): off the event loop.
            await asyncio.to_thread(upgrade, s.database.url)
        infra = self.infrastructure or Infrastructure.from_settings(s)
        self.services = Services(
            settings=s,
            bus=infra.bus,
            engine=infra.engine,
            sessions=infra.sessions,
            pbx=infra.pbx,
            clock=infra.clock,
        )
        try:
            for name, roles, factory in COMPONENTS:
                if self.role not in roles or (self.only is not None and name not in self.only):
                    continue
                component = factory(self.services)
                await component.start()
                self.components.append((name, component))
                log.info("started %s", name)
        except BaseException:
            await self.stop()
            raise
        return self.services

    def component(self, name: str) -> Component:
        """A started component by name (tests: the call-log writer, the bridge)."""
        return next(c for n, c in self.components if n == name)

    async def stop(self) -> None:
        """Stop components in reverse order, each within COMPONENT_STOP_SECONDS: one that
        does not stop in time is cancelled and logged with where it waits, and the others
        still stop (kernel/lifecycle.py), so `hotline serve` always exits."""
        while self.components:
            name, component = self.components.pop()
            await _stop(name, component.stop)
        if self.services is not None and self.infrastructure is None:
            await _stop("bus", self.services.bus.close)
            await _stop("database engine", self.services.engine.dispose)
        self.services = None


async def _stop(name: str, stop: Callable[[], Awaitable[None]]) -> None:
    try:
        await stop_within(stop(), COMPONENT_STOP_SECONDS, f"stopping {name}")
    except Exception:
        log.exception("stopping %s failed", name)


async def serve_forever(runtime: Runtime, ready: Callable[[Services], Any] | None = None) -> None:
    """Run until SIGINT/SIGTERM, then stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    services = await runtime.start()
    try:
        if ready is not None:
            result = ready(services)
            if asyncio.iscoroutine(result):
                await result
        await stop.wait()
    finally:
        await runtime.stop()
