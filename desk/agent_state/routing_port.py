"""AgentStatePort over the routing service (routing/service.py) in the same process:
its commands, its agent view, its errors translated to the port's.

The composition root need not wire anything when routing runs in the API's process:
create_app finds services.features.routing and uses this. Elsewhere (API-only workers)
the router's process runs AgentCommandServer(bus, RoutingAgentState(routing)) and the
API uses BusAgentState (desk/agent_state/bus.py).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from db.models import AgentStateName
from desk.agent_state.bus import AgentCommandServer
from desk.agent_state.port import (
    AgentNotSignedIn,
    AgentStateError,
    AgentStatus,
    IllegalAgentTransition,
    PhoneNotRegistered,
    UnknownReason,
)
from hotline.services import Services


class NotAnAgent(AgentStateError):
    code = "not_an_agent"


class RoutingAgentState:
    def __init__(self, routing: Any) -> None:
        self._routing = routing

    async def _do(self, agent_id: int, command: Awaitable[None]) -> AgentStatus:
        from routing.core import model

        try:
            await command
        except model.PhoneOffline:
            raise PhoneNotRegistered(
                "your browser phone is not registered: open the desk's phone first"
            ) from None
        except model.UnknownReason as exc:
            raise UnknownReason(f"unknown not-ready reason: {exc}") from None
        except model.UnknownAgent:
            raise NotAnAgent(
                "you are not set up to take calls (an agent with an extension and skills)"
            ) from None
        except model.IllegalTransition as exc:
            if exc.state.value == "logged_out":
                raise AgentNotSignedIn("sign in to your phone first") from None
            raise IllegalAgentTransition(
                f"cannot go from {exc.state.value} to {exc.to.value}"
            ) from None
        return await self.status(agent_id)

    async def status(self, agent_id: int) -> AgentStatus:
        from routing.core import model

        try:
            view = self._routing.agent(agent_id)
        except model.UnknownAgent:
            return AgentStatus(agent_id, None, AgentStateName.LOGGED_OUT)
        return AgentStatus(
            agent_id=agent_id,
            extension=view.get("extension"),
            state=AgentStateName(view["state"]),
            reason=view.get("reason"),
            since=view.get("since"),
        )

    async def sign_in(self, agent_id: int, extension: str, *, ready: bool = False) -> AgentStatus:
        current = await self.status(agent_id)
        if current.extension is not None and current.extension != extension:
            raise AgentStateError(
                f"sign in on your own extension {current.extension} (hot-desking is not set up)"
            )
        return await self._do(agent_id, self._routing.login(agent_id, ready=ready))

    async def ready(self, agent_id: int) -> AgentStatus:
        return await self._do(agent_id, self._routing.ready(agent_id))

    async def not_ready(self, agent_id: int, reason: str) -> AgentStatus:
        return await self._do(agent_id, self._routing.not_ready(agent_id, reason))

    async def wrap_up_done(self, agent_id: int, code: str | None = None) -> AgentStatus:
        return await self._do(agent_id, self._routing.wrap_done(agent_id, code))

    async def sign_out(self, agent_id: int) -> AgentStatus:
        return await self._do(agent_id, self._routing.logout(agent_id))

    async def set_phone(self, agent_id: int, phone: str) -> AgentStatus:
        return await self._do(agent_id, self._routing.set_phone(agent_id, phone))


def command_server(services: Services) -> AgentCommandServer | None:
    """For the composition root, in the process that runs routing when API workers run
    elsewhere: answers their agent commands from the bus (start()/stop() component)."""
    routing = services.features.routing
    if routing is None:
        return None
    return AgentCommandServer(services.bus, RoutingAgentState(routing), services.clock)
