"""The composition root: builds one backend process from Settings.

Everything is created here (bus, database engine, PBX link, features) and handed down;
no feature builds its own globals. Features are components with async start()/stop(),
started in order and stopped in reverse, so a failing start leaves nothing running.

Roles: `all` (one machine: everything), `api` (HTTP/websockets and the live view;
several may run behind a proxy), `pbx` (the IVR's FastAGI server, and the cluster-wide
duties while this process leads: the AMI bridge, call log, router, care duties,
recordings, retention; see hotline/cluster.py). Any number of `api` and `pbx` processes
may share one Redis and one PostgreSQL; with the in-process bus there is one process.
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
from hotline.cluster import Duties
from hotline.reload import ReloadListener, needs_restart
from hotline.services import Services
from kernel.bus import make_bus
from kernel.bus.port import EventBus
from kernel.clock import Clock, SystemClock
from kernel.config import Settings
from kernel.lifecycle import Component, settle_heap, stop_within
from privacy.logs import LogMasking

log = logging.getLogger("hotline")
# Longer than the longest grace a component gives its own work when stopping (webhook
# deliveries: 15 s, integrations/webhooks.py).
COMPONENT_STOP_SECONDS = 20.0

API = frozenset({"all", "api"})
PBX = frozenset({"all", "pbx"})

# (name, roles that run it, factory), in start order; stopped in reverse. `duties` is
# the group that only the leading process runs (hotline/cluster.py, wiring.DUTIES).
# The live view starts before the duties so that it hears the bridge's first resync
# (pbx.connected lists the calls Asterisk has: supervisor/live_service.py); the IVR
# before them so that its survey routes are there for the care duties.
COMPONENTS: tuple[tuple[str, frozenset[str], Callable[[Services], Component | None]], ...] = (
    ("live", API, wiring.supervisor_live),
    ("ivr", PBX, wiring.ivr_fastagi),
    ("duties", PBX, wiring.duties),
    ("http", API, wiring.http),
    ("ops_http", frozenset({"pbx"}), wiring.ops_http),
)
DUTY_NAMES = frozenset(name for name, _ in wiring.DUTIES)
NAMES = frozenset(name for name, _, _ in COMPONENTS) | DUTY_NAMES


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
    # Reads the configuration again (the serve command's file and environment): what a
    # reload (SIGHUP, `hotline reload`) applies. None: this runtime cannot reload.
    config_source: Callable[[], Settings] | None = None
    reloads: int = 0  # configurations applied since start (tests, logs)
    _listener: ReloadListener | None = field(default=None, init=False, repr=False)
    _log_masking: LogMasking | None = field(default=None, init=False, repr=False)

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
            # First in, last out: no full phone number in the log (privacy/logs.py).
            self._log_masking = LogMasking(s.privacy)
            await self._log_masking.start()
            for name, roles, factory in COMPONENTS:
                if self.role not in roles or not self._runs(name):
                    continue
                if name == "duties":
                    only = None if self.only is None else set(self.only) & DUTY_NAMES
                    component: Component = wiring.duties(self.services, only)
                else:
                    made = factory(self.services)
                    if made is None:  # not configured (an optional listener)
                        continue
                    component = made
                await component.start()
                self.components.append((name, component))
                log.info("started %s", name)
            if self.config_source is not None:
                self._listener = ReloadListener(self.services.bus, self.reload_from_source)
                await self._listener.start()
        except BaseException:
            await self.stop()
            raise
        return self.services

    async def reload_from_source(self) -> bool:
        """Read the configuration again and apply it (hotline/reload.py); False when it is
        invalid (nothing changes) or this runtime has no source."""
        if self.config_source is None:
            log.warning("configuration reload asked, but this process has no config source")
            return False
        try:
            settings = await asyncio.to_thread(self.config_source)
        except Exception as exc:  # ConfigError and unreadable files alike: keep running
            log.error("configuration reload refused, the running one stays:\n%s", exc)
            return False
        await self.reload(settings)
        return True

    async def reload(self, settings: Settings) -> None:
        """Apply `settings` without stopping: components with a reload() take it; calls,
        desktops and the AMI link stay (hotline/reload.py)."""
        if self.services is None:
            raise RuntimeError("the runtime is not running")
        later = needs_restart(self.settings, settings)
        if later:
            log.warning("configuration reload: %s take effect at the next restart", later)
        self.settings = settings
        self.services.settings = settings
        for name, component in self.components:
            reload = getattr(component, "reload", None)
            if reload is not None:
                await reload()
                log.info("reloaded %s", name)
        self.reloads += 1
        log.info("configuration reloaded (%d since start)", self.reloads)

    def _runs(self, name: str) -> bool:
        if self.only is None:
            return True
        if name == "duties":
            return bool(set(self.only) & DUTY_NAMES)
        return name in self.only

    def component(self, name: str) -> Component:
        """A started component by name, or a duty running now (tests: the call-log
        writer, the bridge)."""
        for n, c in self.components:
            if n == name:
                return c
            if isinstance(c, Duties) and (duty := c.component(name)) is not None:
                return duty
        raise LookupError(f"{name} is not running in this process")

    @property
    def duties(self) -> Duties | None:
        return next((c for _, c in self.components if isinstance(c, Duties)), None)

    async def stop(self) -> None:
        """Stop components in reverse order, each within COMPONENT_STOP_SECONDS: one that
        does not stop in time is cancelled and logged with where it waits, and the others
        still stop (kernel/lifecycle.py), so `hotline serve` always exits."""
        if self._listener is not None:
            await _stop("reload listener", self._listener.stop)
            self._listener = None
        while self.components:
            name, component = self.components.pop()
            await _stop(name, component.stop)
        if self.services is not None and self.infrastructure is None:
            await _stop("bus", self.services.bus.close)
            await _stop("database engine", self.services.engine.dispose)
        self.services = None
        if self._log_masking is not None:
            await self._log_masking.stop()
            self._log_masking = None


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
    reloading: set[asyncio.Task[bool]] = set()

    def hang_up() -> None:  # SIGHUP: read the configuration again
        task = loop.create_task(runtime.reload_from_source(), name="config-reload")
        reloading.add(task)
        task.add_done_callback(reloading.discard)

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGHUP, hang_up)
    services = await runtime.start()
    settle_heap()  # gc.freeze: start-up objects out of the collector's way
    try:
        if ready is not None:
            result = ready(services)
            if asyncio.iscoroutine(result):
                await result
        await stop.wait()
    finally:
        await runtime.stop()
