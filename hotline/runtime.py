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
import importlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from db.engine import async_session_factory, make_async_engine
from hotline.services import Services
from kernel.bus import make_bus
from kernel.config import Settings
from kernel.lifecycle import stop_within

log = logging.getLogger("hotline")
# Longer than the longest grace a component gives its own work when stopping (webhook
# deliveries: 15 s, integrations/webhooks.py).
COMPONENT_STOP_SECONDS = 20.0


class Component(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


# (role set, dotted factory "module:function(services) -> Component", required?)
# Optional factories are skipped when their module is absent, so the runtime works while
# features land one by one; a present module that fails to build is an error.
# The live view starts before the bridge so that it hears the bridge's first resync
# (pbx.connected lists the calls Asterisk has: supervisor/live_service.py).
COMPONENTS: list[tuple[frozenset[str], str, bool]] = [
    (frozenset({"all", "api"}), "hotline.wiring:supervisor_live", False),
    (frozenset({"all", "pbx"}), "hotline.wiring:call_log", True),
    (frozenset({"all", "pbx"}), "hotline.wiring:pbx_bridge", True),
    (frozenset({"all", "pbx"}), "hotline.wiring:routing", False),
    (frozenset({"all", "pbx"}), "hotline.wiring:ivr_fastagi", False),
    (frozenset({"all", "pbx"}), "hotline.wiring:tickets", False),
    (frozenset({"all", "pbx"}), "hotline.wiring:recordings", False),
    (frozenset({"all", "api"}), "hotline.wiring:http", False),
]


@dataclass
class Runtime:
    settings: Settings
    role: str = "all"
    services: Services | None = None
    components: list[tuple[str, Component]] = field(default_factory=list)

    async def start(self) -> Services:
        from db.migrate import upgrade

        s = self.settings
        # Migrations are blocking (Alembic): off the event loop.
        await asyncio.to_thread(upgrade, s.database.url)
        engine = make_async_engine(s.database.url)
        self.services = Services(
            settings=s,
            bus=make_bus(s.redis.url),
            engine=engine,
            sessions=async_session_factory(engine),
        )
        try:
            for roles, target, required in COMPONENTS:
                if self.role not in roles:
                    continue
                factory = _resolve(target)
                component = factory(self.services)
                if component is None:
                    if required:
                        raise RuntimeError(f"{target} is required but not available")
                    continue
                await component.start()
                self.components.append((target, component))
                log.info("started %s", target.split(":")[1])
        except BaseException:
            await self.stop()
            raise
        return self.services

    async def stop(self) -> None:
        """Stop components in reverse order, each within COMPONENT_STOP_SECONDS: one that
        does not stop in time is cancelled and logged with where it waits, and the others
        still stop (kernel/lifecycle.py), so `hotline serve` always exits."""
        while self.components:
            name, component = self.components.pop()
            await _stop(name, component.stop)
        if self.services is not None:
            await _stop("bus", self.services.bus.close)
            await _stop("database engine", self.services.engine.dispose)
            self.services = None


async def _stop(name: str, stop: Callable[[], Awaitable[None]]) -> None:
    try:
        await stop_within(stop(), COMPONENT_STOP_SECONDS, f"stopping {name}")
    except Exception:
        log.exception("stopping %s failed", name)


def _resolve(target: str) -> Callable[[Services], Component | None]:
    module, _, name = target.partition(":")
    factory: Callable[[Services], Component | None] = getattr(importlib.import_module(module), name)
    return factory


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
