"""Factories the runtime calls (hotline/runtime.py COMPONENTS): one per feature.

Each takes the shared Services and returns a component (async start/stop), and puts
what other features need on services.features (typed, hotline/services.py). This is the
one place that knows how features are put together; every import is explicit, so mypy
and a reader see the whole wiring.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Collection
from typing import Any

import uvicorn

from callcontrol.bus import CallControlServer
from campaigns.agent_dialer import AgentDialer
from campaigns.agi import CampaignAgi
from campaigns.engine import CampaignEngine
from cti.bridge import CtiBridge
from cti.calllog.history import SqlCallHistory
from cti.calllog.writer import CallLogWriter
from cti.cel.store import SqlCelStore
from cti.nodes import PbxNodes
from desk.agent_state.routing_port import RoutingAgentState, command_server
from followups.survey_agi import SurveyAgi
from hotline.care import TicketsRuntime
from hotline.cluster import Duties, DutyFactory
from hotline.http import create_app, ops_app
from hotline.services import Services
from integrations.sms import SmsGateway
from ivr.fastagi import IvrFastAgiServer
from ivr.twilio.agents import TwilioAgentDialer
from ivr.workers import IvrWorkers, serve_worker
from kernel.bus import is_shared
from kernel.config import Settings
from kernel.config.pbx import PbxNode
from kernel.fencing import Fence
from kernel.leadership import Leadership
from kernel.lifecycle import Component
from qa.schedule import WeeklySampling
from recordings.control_bus import ControlServer
from recordings.retention_schedule import FENCE as RETENTION_FENCE
from recordings.retention_schedule import RetentionSchedule
from recordings.service import RecordingService
from routing.service import RoutingService
from supervisor.live_service import LiveService
from supervisor.remote import SupervisorServer

log = logging.getLogger("hotline")


def call_log(services: Services) -> Component:
    return CallLogWriter(services.bus, services.sessions)


def pbx_bridge(services: Services) -> Component:
    """The AMI bridges: one per Asterisk node, each a duty of the leading process
    (hotline/cluster.py). Several nodes: cti/nodes.py carries commands to the right one."""
    s = services.settings
    bridges = [_node_bridge(services, node) for node in s.pbx.node_list()]
    services.features.bridges = bridges
    if len(bridges) == 1:
        services.pbx = bridges[0].commands
        return bridges[0]
    nodes = PbxNodes(bridges)
    services.pbx = nodes.commands
    return nodes


def _node_bridge(services: Services, node: PbxNode) -> CtiBridge:
    s = services.settings
    secret_value = os.environ.get(node.secret_env, "") if node.secret_env else ""
    if not secret_value and s.pbx.ami.secret:
        secret_value = s.pbx.ami.secret.get_secret_value()
    if not secret_value:
        log.warning(
            "no AMI secret for node %s (%s): the AMI login will be refused",
            node.name,
            node.secret_env or "HOTLINE_PBX__AMI__SECRET",
        )
    cel = s.pbx.cel
    return CtiBridge(
        node.ami,
        s.pbx.dialplan,
        services.bus,
        secret=secret_value,
        history=SqlCallHistory(services.sessions, pbx_node=node.name),
        cel=(
            SqlCelStore(node.cel_url, table=cel.table, timeout=cel.timeout_seconds)
            if node.cel_url
            else None
        ),
        node=node.name,
    )


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
    # So is the campaign route (`campaign`: answered campaign calls).
    services.features.campaign_agi = services.features.campaign_agi or CampaignAgi(services)
    server = IvrFastAgiServer(services)
    workers = services.settings.pbx.fastagi.workers
    if workers == 1:
        return server
    if not is_shared(services.settings.redis.url):
        raise ValueError(
            "pbx.fastagi.workers > 1 needs redis.url: the IVR workers' events (tickets,"
            " campaign answers) reach the other processes over the shared bus"
        )
    return IvrWorkers(server, workers, run_ivr_worker)


def run_ivr_worker(settings: Settings, index: int, ready: Any) -> None:
    """One IVR worker process (ivr/workers.py): a Runtime with only the IVR, on the
    shared FastAGI port."""
    from hotline.runtime import Runtime  # hotline/runtime.py imports this module

    fastagi = settings.pbx.fastagi.model_copy(update={"workers": 1, "shared_port": True})
    own = settings.model_copy(update={"pbx": settings.pbx.model_copy(update={"fastagi": fastagi})})

    async def start() -> Runtime:
        runtime = Runtime(own, role="pbx", only=["ivr"], migrate=False)
        await runtime.start()
        return runtime

    serve_worker(start, ready)


def tickets(services: Services) -> Component:
    return TicketsRuntime(services)


def recordings(services: Services) -> Component:
    return RecordingService(services)


def agent_commands(services: Services) -> Component | None:
    """Agents' state commands from the HTTP processes (over the bus) to the router. With
    the in-process bus the desk talks to the router of its own process (desk/feature.py)."""
    if not is_shared(services.settings.redis.url):
        return None
    return command_server(services)


def supervisor_actions(services: Services) -> Component | None:
    """The supervisor's board and actions asked by the HTTP processes over the bus."""
    routing = services.features.routing
    if routing is None or not is_shared(services.settings.redis.url):
        return None
    return SupervisorServer(services, RoutingAgentState(routing))


def recording_control(services: Services) -> Component | None:
    """Recording control asked by the HTTP processes over the bus (with the in-process
    bus, recordings/control_api.py uses the recordings service of its process)."""
    recordings = services.features.recordings
    if recordings is None or not is_shared(services.settings.redis.url):
        return None
    return ControlServer(services.bus, recordings, services.clock)


def call_control(services: Services) -> Component | None:
    """The desk's call controls asked by the HTTP processes over the bus (with the
    in-process bus, callcontrol/api.py acts through this process's PBX link)."""
    if services.pbx is None or not is_shared(services.settings.redis.url):
        return None
    return CallControlServer(services)


def retention(services: Services) -> Component:
    fence = Fence(services.sessions, RETENTION_FENCE, _leadership(services), services.clock)
    return RetentionSchedule(services, fence)


def qa_sampling(services: Services) -> Component:
    """The week's QA samples topped up every few minutes (qa/schedule.py)."""
    return WeeklySampling(services)


def campaigns(services: Services) -> Component:
    """Outbound campaigns: dials contacts under the dialing rules (campaigns/engine.py)."""
    return CampaignEngine(services)


def campaign_agents(services: Services) -> Component:
    """Agent campaigns (preview/progressive) through the router, inbound first
    (campaigns/agent_dialer.py): after routing, in the same process as the router."""
    return AgentDialer(services)


def sms(services: Services) -> Component:
    """Text messages from the outbox to the SMS gateway (integrations/sms.py)."""
    return SmsGateway(services)


def _leadership(services: Services) -> Leadership:
    if services.features.leadership is None:
        raise RuntimeError("the retention schedule is a duty: run it under hotline/cluster.py")
    return services.features.leadership


# The leading process's duties, in start order (stopped in reverse): the call log hears
# the bridge's first events, the router sends its offers through the bridge, the agents'
# commands reach the router, the care duties dial through the bridge.
DUTIES: tuple[tuple[str, DutyFactory], ...] = (
    ("call_log", call_log),
    ("bridge", pbx_bridge),
    ("routing", routing),
    ("agent_commands", agent_commands),
    ("supervisor_actions", supervisor_actions),
    ("tickets", tickets),
    ("recordings", recordings),
    ("recording_control", recording_control),
    ("call_control", call_control),
    ("retention", retention),
    ("qa_sampling", qa_sampling),
    ("campaigns", campaigns),
    ("campaign_agents", campaign_agents),
    ("sms", sms),
)


def duties(services: Services, names: Collection[str] | None = None) -> Duties:
    """The duties this process runs while it leads (all, or those in `names`)."""
    chosen = [(n, f) for n, f in DUTIES if names is None or n in names]
    return Duties(services, chosen)


def supervisor_live(services: Services) -> Component:
    """The live view (wallboard, /ws/supervisor): in every process that serves HTTP."""
    return LiveService(services)


def http(services: Services) -> Component:
    s = services.settings.http
    return _HttpServer(create_app(services), s.host, s.port)


def ops_http(services: Services) -> Component | None:
    """/healthz, /readyz and /metrics of a pbx process, on ops.port when set."""
    s = services.settings.ops
    if s.port is None:
        return None
    return _HttpServer(ops_app(services), s.host, s.port)


class _HttpServer:
    """uvicorn in this process (one event loop with everything else)."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
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
