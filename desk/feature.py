"""desk_feature(services, tickets) -> HttpFeature: the agent desk as the app serves it.

Puts on app.state:
- agent_state: AgentStatePort, see agent_state_port() (the routing service's when it runs
  in this process, the bus in an API-only worker, a stand-in before routing exists);
- tickets: the TicketService the composition root passes (tickets/service.py);
- hub: AgentHub (bus -> desktops); audit: the AuditQueue of the screen-pop lane.
The audit queue, the hub and the agent-state port run in the app's lifespan, in that order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent_api.app import HttpFeature
from desk.agent_state.bus import BusAgentState
from desk.agent_state.memory import InMemoryAgentState
from desk.agent_state.port import AgentStatePort, AgentStateUnavailable
from desk.agent_state.routing_port import RoutingAgentState
from desk.push.hub import AgentHub
from desk.push.pop import PopBuilder
from desk.routes import (
    agent_api,
    call_tickets_api,
    calls_api,
    customers_api,
    desk_api,
    knowledge_api,
    phone_api,
    ws,
)
from hotline.services import Features, Services
from kernel.audit import AuditQueue
from kernel.bus import is_shared

STATIC = Path(__file__).parent / "static"


def agent_state_port(services: Services) -> AgentStatePort:
    """Who answers the agents' state commands, in this order: what the composition root
    wired (services.features.agent_state); with Redis (the router runs in the leading
    process, hotline/cluster.py) the bus, answered there by an AgentCommandServer; the
    routing service of this process; else (nothing to route with yet) a stand-in machine
    of this process."""
    features = services.features
    if features.agent_state is not None:
        return features.agent_state
    if is_shared(services.settings.redis.url):
        # Several processes: the router runs in whichever leads (hotline/cluster.py), maybe
        # not this one, and may move; its command server answers on the bus.
        return BusAgentState(services.bus, services.clock)
    if features.routing is not None:
        return RoutingAgentState(_CurrentRouter(features))
    return InMemoryAgentState(
        services.bus, services.clock, services.settings.routing.not_ready_reasons
    )


class _CurrentRouter:
    """The router of this process as it is now: a configuration reload builds a new one
    (hotline/cluster.py), and the desk must not keep talking to the stopped one."""

    def __init__(self, features: Features) -> None:
        self._features = features

    def __getattr__(self, name: str) -> Any:
        routing = self._features.routing
        if routing is None:
            raise AgentStateUnavailable("routing is not running in this process right now")
        return getattr(routing, name)


class _PortLifecycle:
    """Starts and stops the agent-state port when it has a lifecycle (the bus port)."""

    def __init__(self, port: AgentStatePort) -> None:
        self._port = port

    async def start(self) -> None:
        starter = getattr(self._port, "start", None)
        if starter is not None:
            await starter()

    async def stop(self) -> None:
        stopper = getattr(self._port, "stop", None)
        if stopper is not None:
            await stopper()


def desk_feature(services: Services, tickets: Any) -> HttpFeature:
    agent_state = agent_state_port(services)
    audit_queue = AuditQueue(services.sessions)
    builder = PopBuilder(services.settings, services.sessions, services.clock)
    hub = AgentHub(services, builder, audit_queue)
    return HttpFeature(
        routers=[
            *(
                module.router
                for module in (
                    agent_api,
                    customers_api,
                    calls_api,
                    call_tickets_api,
                    knowledge_api,
                    desk_api,
                    phone_api,
                    ws,
                )
            ),
            phone_api.vendor,  # /desk/vendor/jssip.min.js: before the /desk static mount
        ],
        state={"agent_state": agent_state, "tickets": tickets, "hub": hub, "audit": audit_queue},
        components=[audit_queue, hub, _PortLifecycle(agent_state)],
        static={"/desk": STATIC},
        home="/desk/",
    )
