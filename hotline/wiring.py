"""Factories the runtime calls (hotline/runtime.py COMPONENTS): one per feature.

Each takes the shared Services and returns a component (async start/stop), or None when
the feature is not available in this build. This is the one place that knows how
features are put together; features never import each other's wiring.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from typing import Any

from hotline.runtime import Component
from hotline.services import Services

log = logging.getLogger("hotline")


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def call_log(services: Services) -> Component:
    from cti.calllog.writer import CallLogWriter

    return CallLogWriter(services.bus, services.sessions)


class _BridgeComponent:
    """The AMI bridge, run only by the elected leader (one bridge per Asterisk)."""

    def __init__(self, services: Services) -> None:
        from cti.bridge import CtiBridge
        from cti.calllog.history import SqlCallHistory
        from cti.cel.store import SqlCelStore

        s = services.settings
        secret = s.pbx.ami.secret.get_secret_value() if s.pbx.ami.secret else ""
        if not secret:
            log.warning("HOTLINE_PBX__AMI__SECRET is not set: the AMI login will be refused")
        cel = s.pbx.cel
        self.bridge = CtiBridge(
            s.pbx.ami,
            s.pbx.dialplan,
            services.bus,
            secret=secret,
            history=SqlCallHistory(services.sessions),
            cel=(
                SqlCelStore(cel.url, table=cel.table, timeout=cel.timeout_seconds)
                if cel.url
                else None
            ),
        )
        services.pbx = self.bridge.commands
        services.extras["bridge"] = self.bridge
        self._services = services
        self._leader: Any = None

    async def start(self) -> None:
        if _available("cti.leader"):
            run_when_leader = importlib.import_module("cti.leader").run_when_leader
            self._leader = await run_when_leader(
                self._services, start=self.bridge.start, stop=self.bridge.stop
            )
        else:
            await self.bridge.start()

    async def stop(self) -> None:
        if self._leader is not None:
            await self._leader.stop()
        else:
            await self.bridge.stop()


def pbx_bridge(services: Services) -> Component:
    return _BridgeComponent(services)


def _optional(module: str, attr: str, services: Services) -> Component | None:
    if not _available(module):
        return None
    factory = getattr(importlib.import_module(module), attr, None)
    if factory is None:
        return None
    component: Component = factory(services)
    return component


def routing(services: Services) -> Component | None:
    twilio = services.settings.twilio
    if twilio.enabled and twilio.agent_sip_uri and _available("ivr.twilio.agents"):
        # Twilio callers reach Hotline's agents through Twilio (routing/twilio_offers.py).
        agents = importlib.import_module("ivr.twilio.agents").TwilioAgentDialer(services.settings)
        services.extras["twilio_agents"] = agents
    return _optional("routing.service", "RoutingService", services)


def ivr_fastagi(services: Services) -> Component | None:
    return _optional("ivr.fastagi", "IvrFastAgiServer", services)


def tickets(services: Services) -> Component | None:
    return _optional("tickets.runtime", "TicketsRuntime", services)


def recordings(services: Services) -> Component | None:
    return _optional("recordings.service", "RecordingService", services)


def supervisor_live(services: Services) -> Component | None:
    """The live view (wallboard, /ws/supervisor): in every process that serves HTTP."""
    return _optional("supervisor.live_service", "LiveService", services)


def http(services: Services) -> Component | None:
    return _HttpServer(services)


class _HttpServer:
    """uvicorn in this process, on settings.http (one event loop with everything else)."""

    def __init__(self, services: Services) -> None:
        import uvicorn

        from hotline.http import create_app

        s = services.settings.http
        config = uvicorn.Config(
            create_app(services),
            host=s.host,
            port=s.port,
            log_level="warning",
            lifespan="on",
            ws="websockets-sansio",  # the legacy implementation is deprecated
            # Open websockets (desktops, wallboards) must not keep the process from
            # stopping: after this many seconds uvicorn cancels what is left.
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(config)
        self._task: Any = None

    async def start(self) -> None:
        import asyncio

        self._task = asyncio.create_task(self.server.serve(), name="http")
        while not self.server.started:
            if self._task.done():
                self._task.result()  # re-raise the bind error
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task
