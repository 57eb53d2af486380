"""Request-scoped access to what create_app built (all on app.state; no globals)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from desk.agent_state.port import AgentStatePort
from desk.push.hub import AgentHub
from hotline.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_services(request).sessions() as session:
        yield session


def get_hub(request: Request) -> AgentHub:
    hub: AgentHub = request.app.state.hub
    return hub


def get_agent_state(request: Request) -> AgentStatePort:
    port: AgentStatePort = request.app.state.agent_state
    return port


def get_tickets(request: Request) -> Any:
    """The TicketService (tickets/service.py) or None when that feature is absent."""
    return request.app.state.tickets


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


ServicesDep = Annotated[Services, Depends(get_services)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
HubDep = Annotated[AgentHub, Depends(get_hub)]
AgentStateDep = Annotated[AgentStatePort, Depends(get_agent_state)]
TicketsDep = Annotated[Any, Depends(get_tickets)]
