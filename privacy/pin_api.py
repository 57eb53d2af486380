"""The IVR self-service PIN of a customer (settings.privacy.ivr_pin), supervisors and admins.

    PUT    /api/privacy/customers/{customer_id}/pin   {"pin": "1234"}  4-6 digits, else 422
    DELETE /api/privacy/customers/{customer_id}/pin   clear it (the IVR stops asking)

Only a salted hash is stored (kernel/pins.py); audited "customer.pin_set" / "customer.pin_cleared"
without the digits.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from agent_api.auth import Principal, require_roles
from agent_api.deps import ServicesDep, SessionDep, client_address
from agent_api.errors import error_responses
from customers.file import get_customer
from db.models import Role
from kernel.audit import Actor, audit_row, write_audit
from kernel.pins import hash_pin

router = APIRouter(prefix="/api/privacy", tags=["privacy"])
PinManager = Annotated[Principal, require_roles(Role.SUPERVISOR, Role.ADMIN)]
CustomerId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class PinIn(BaseModel):
    pin: str = Field(pattern=r"^[0-9]{4,6}$", description="4 to 6 digits")


class PinOut(BaseModel):
    customer_id: int
    has_pin: bool


def _actor(user: Principal, request: Request) -> Actor:
    actor = user.actor()
    return Actor(actor.id, actor.name, actor.role, client_address(request))


async def _change(
    customer_id: int,
    pin_hash: str | None,
    action: str,
    user: Principal,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
) -> PinOut:
    customer = await get_customer(session, customer_id)
    customer.pin_hash = pin_hash
    session.add(customer)
    row = audit_row(
        actor=_actor(user, request),
        action=action,
        object_type="customer",
        object_id=customer_id,
        at=services.clock.now(),
    )
    await write_audit(session, [row])
    await session.commit()
    return PinOut(customer_id=customer_id, has_pin=pin_hash is not None)


@router.put(
    "/customers/{customer_id}/pin",
    response_model=PinOut,
    responses=error_responses(401, 403, 404, 422),
    summary="Set a customer's IVR self-service PIN (4-6 digits, stored hashed); audited",
)
async def set_pin(
    customer_id: CustomerId,
    body: PinIn,
    user: PinManager,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
) -> PinOut:
    return await _change(
        customer_id, hash_pin(body.pin), "customer.pin_set", user, request, session, services
    )


@router.delete(
    "/customers/{customer_id}/pin",
    response_model=PinOut,
    responses=error_responses(401, 403, 404, 422),
    summary="Clear a customer's IVR PIN (the IVR no longer asks for one); audited",
)
async def clear_pin(
    customer_id: CustomerId,
    user: PinManager,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
) -> PinOut:
    return await _change(
        customer_id, None, "customer.pin_cleared", user, request, session, services
    )
