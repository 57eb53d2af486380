"""Request-scoped access to what desk/feature.py put on app.state (no globals)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from desk.agent_state.port import AgentStatePort
from desk.push.hub import AgentHub


def get_hub(request: Request) -> AgentHub:
    hub: AgentHub = request.app.state.hub
    return hub


def get_agent_state(request: Request) -> AgentStatePort:
    port: AgentStatePort = request.app.state.agent_state
    return port


def get_tickets(request: Request) -> Any:
    """The TicketService (tickets/service.py)."""
    return request.app.state.tickets


HubDep = Annotated[AgentHub, Depends(get_hub)]
AgentStateDep = Annotated[AgentStatePort, Depends(get_agent_state)]
TicketsDep = Annotated[Any, Depends(get_tickets)]
