"""Request-scoped access to what create_app built (all on app.state; no globals)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from hotline.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_services(request).sessions() as session:
        yield session


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


ServicesDep = Annotated[Services, Depends(get_services)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
