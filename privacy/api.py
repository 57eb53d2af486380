"""Customer data export and erasure (PIPL), administrators only.

    GET  /api/privacy/customers/{customer_id}/export   everything held about the person
    POST /api/privacy/customers/{customer_id}/erase    {"reason": "..."}: pseudonymise
    PUT/DELETE /api/privacy/customers/{customer_id}/pin  the IVR PIN (privacy/pin_api.py)

Both audited (privacy/service.py). The feature also runs the log masking
(privacy/logs.py) while the app serves.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from agent_api.app import HttpFeature
from agent_api.auth import Principal, require_roles
from agent_api.deps import ServicesDep, SessionDep, client_address
from agent_api.errors import error_responses
from db.models import Role
from hotline.services import Services
from kernel.audit import Actor
from privacy import pin_api, service
from privacy.logs import LogMasking

router = APIRouter(prefix="/api/privacy", tags=["privacy"])
Admin = Annotated[Principal, require_roles(Role.ADMIN)]
CustomerId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class ErasureIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200, description="the request, e.g. its number")


def privacy_feature(services: Services) -> HttpFeature:
    return HttpFeature(
        routers=[router, pin_api.router], components=[LogMasking(services.settings.privacy)]
    )


def _actor(user: Principal, request: Request) -> Actor:
    actor = user.actor()
    return Actor(actor.id, actor.name, actor.role, client_address(request))


@router.get(
    "/customers/{customer_id}/export",
    response_model=dict[str, Any],
    responses=error_responses(401, 403, 404, 422),
    summary="Export one customer's personal data (file, phones, calls, tickets, surveys, "
    "callbacks) as JSON; audited",
)
async def export_customer(
    customer_id: CustomerId,
    user: Admin,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
) -> JSONResponse:
    document = await service.export_customer(
        session, customer_id, _actor(user, request), services.clock
    )
    return JSONResponse(
        document,
        headers={
            "Content-Disposition": f'attachment; filename="customer-{customer_id}.json"',
            "Cache-Control": "private, no-store",
        },
    )


@router.post(
    "/customers/{customer_id}/erase",
    response_model=service.ErasureOut,
    responses=error_responses(401, 403, 404, 422),
    summary="Erase one customer's personal data: the person pseudonymised, tickets keep "
    "their trail; audited; a second request changes nothing",
)
async def erase_customer(
    customer_id: CustomerId,
    body: ErasureIn,
    user: Admin,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
) -> service.ErasureOut:
    return await service.erase_customer(
        session, customer_id, _actor(user, request), services.clock, body.reason.strip() or None
    )
