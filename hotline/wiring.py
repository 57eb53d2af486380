"""Factories the runtime calls (hotline/runtime.py COMPONENTS): one per feature.

Each takes the shared Services and returns a component (async start/stop), and puts
what other features need on services.features (typed, hotline/services.py). This is the
one place that knows how features are put together; every import is explicit, so mypy
and a reader see the whole wiring.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import uvicorn

from cti.bridge import CtiBridge
from cti.calllog.history import SqlCallHistory
from cti.calllog.writer import CallLogWriter
from cti.cel.store import SqlCelStore
from cti.leader import run_when_leader
from followups.survey_agi import SurveyAgi
from hotline.care import TicketsRuntime
from hotline.http import create_app
from hotline.services import Services
from ivr.fastagi import IvrFastAgiServer
from ivr.twilio.agents import TwilioAgentDialer
from kernel.lifecycle import Component
from recordings.service import RecordingService
from routing.service import RoutingService
from supervisor.live_service import LiveService

log = logging.getLogger("hotline")


def call_log(services: Services) -> Component:
    return CallLogWriter(services.bus, services.sessions)


class _BridgeComponent:
    """The AMI bridge, run only by the elected leader (one bridge per Asterisk)."""

    def __init__(self, services: Services) -> None:
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
        services.features.bridge = self.bridge
        self._services = services
        self._leader: Any = None

    async def start(self) -> None:
        self._leader = await run_when_leader(
            self._services, start=self.bridge.start, stop=self.bridge.stop
        )

    async def stop(self) -> None:
        if self._leader is not None:
            await self._leader.stop()


def pbx_bridge(services: Services) -> Component:
    return _BridgeComponent(services)


def routing(services: Services) -> Component:
    twilio = services.settings.twilio
    if twilio.enabled and twilio.agent_sip_uri:
        # Twilio callers reach Hotline's agents through Twilio (routing/pbx/twilio_offers.py).
        services.features.twilio_agents = TwilioAgentDialer(services.settings)
    return RoutingService(services)


def ivr_fastagi(services: Services) -> Component:
    # The survey routes (`followup`, `survey`) are served by the IVR's FastAGI server;
    # the care component below reuses this SurveyAgi.
    services.features.surveys = services.features.surveys or SurveyAgi(services)
    return IvrFastAgiServer(services)


def tickets(services: Services) -> Component:
    return TicketsRuntime(services)


def recordings(services: Services) -> Component:
    return RecordingService(services)


def supervisor_live(services: Services) -> Component:
    """The live view (wallboard, /ws/supervisor): in every process that serves HTTP."""
    return LiveService(services)


def http(services: Services) -> Component:
    return _HttpServer(services)


class _HttpServer:
    """uvicorn in this process, on settings.http (one event loop with everything else)."""

    def __init__(self, services: Services) -> None:
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
        self._task = asyncio.create_task(self.server.serve(), name="http")
        while not self.server.started:
            if self._task.done():
                self._task.result()  # re-raise the bind error
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task
