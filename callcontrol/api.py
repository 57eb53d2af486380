"""/api/agent/call: the signed-in agent's call controls (the desk's buttons).

    GET  /api/agent/call                      the agent's call now (state, who is on it)
    POST /api/agent/call/hold | resume | complete | cancel | leave | hangup
    POST /api/agent/call/transfer   {"target": "agent:1002" | "queue:billing" | "number:..."}
    POST /api/agent/call/consult    {"target": "1002"}     attended transfer, step 1
    POST /api/agent/call/conference {"target": "1002"}     three-way call
    POST /api/agent/call/dial       {"customer_id": 7, "phone_index": 1}    click-to-dial
                                    (or {"number": "138..."}: a number the user typed)
    POST /api/agent/call/dtmf       {"digits": "1#"}

A supervisor (or an administrator) acts on an agent's call from the board:
    POST /api/supervisor/agents/{agent_id}/call/hold | resume | hangup | transfer {target}

Click-to-dial from a customer file goes by the file's phone index (the order of the
file's `phones`, primary first): the desk shows agents masked numbers (privacy/) and
never holds the full one; the number is looked up here. A masked `number` with the
customer_id is matched against the file's phones too. Numbers in the answers are masked
for roles outside privacy.full_number_roles.

Carried out where the AMI link runs (this process, or the leader over the bus:
callcontrol/bus.py), each audited there as "call.<operation>".
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from agent_api.app import HttpFeature
from agent_api.auth import Principal, require_roles
from agent_api.deps import SessionDep
from agent_api.errors import ApiError, error_responses
from callcontrol.bus import BusControl, CallControlPort, LocalControl
from callcontrol.errors import CallControlError
from db.models import Customer, Role, User
from hotline.services import Services
from kernel.bus import is_shared
from kernel.masking import mask_phone
from privacy.numbers import full_numbers

router = APIRouter(prefix="/api/agent/call", tags=["call control"])
Agent = Annotated[Principal, require_roles(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)]
Simple = Literal["hold", "resume", "complete", "cancel", "leave", "hangup"]


class CallControlIn(BaseModel):
    target: str | None = Field(default=None, max_length=64)
    number: str | None = Field(default=None, max_length=24)
    customer_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    digits: str | None = Field(default=None, max_length=40)


class DialIn(BaseModel):
    number: str | None = Field(default=None, max_length=24)
    customer_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    phone_index: int | None = Field(default=None, ge=0, le=99)


class CallStateOut(BaseModel):
    call_id: str | None
    state: str
    caller_number: str | None = None
    consulting: str | None = None
    conference: list[str] = []
    target: str | None = None
    number: str | None = None


def call_control_feature(services: Services) -> HttpFeature:
    routers = [router, supervisor_router]
    if is_shared(services.settings.redis.url):
        remote = BusControl(services)
        return HttpFeature(routers=routers, state={"call_control": remote}, components=[remote])
    local = LocalControl(services, services.features)
    return HttpFeature(routers=routers, state={"call_control": local})


async def _perform(
    request: Request,
    user: Principal,
    operation: str,
    args: dict[str, Any],
    extension: str | None = None,
) -> CallStateOut:
    """On the call of `extension` (default: the user's own phone)."""
    port: CallControlPort = request.app.state.call_control
    phone = (user.extension or "") if extension is None else extension
    try:
        result = await port.perform(operation, phone, user.actor(), {**args, "agent_id": user.id})
    except CallControlError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    known = set(CallStateOut.model_fields)
    out = CallStateOut(**{k: v for k, v in result.items() if k in known})
    if full_numbers(user, request.app.state.services):
        return out
    return out.model_copy(
        update={"caller_number": mask_phone(out.caller_number), "number": mask_phone(out.number)}
    )


@router.get(
    "",
    response_model=CallStateOut,
    responses=error_responses(401, 403, 503),
    summary="The signed-in agent's call now",
)
async def call_state(user: Agent, request: Request) -> CallStateOut:
    return await _perform(request, user, "state", {})


_ERRORS = error_responses(400, 401, 403, 404, 409, 422, 503)


def _with(operation: str, summary: str, fields: tuple[str, ...]) -> None:
    async def endpoint(body: CallControlIn, user: Agent, request: Request) -> CallStateOut:
        args = {k: v for k, v in body.model_dump().items() if k in fields and v is not None}
        return await _perform(request, user, operation, args)

    endpoint.__name__ = f"call_{operation}"
    router.add_api_route(
        f"/{operation}",
        endpoint,
        methods=["POST"],
        response_model=CallStateOut,
        responses=_ERRORS,
        summary=summary,
    )


_with("transfer", "Blind transfer: agent:<ext>, queue:<name> or number:<digits>", ("target",))
_with("consult", "Attended transfer: call agent <target> first, caller on hold", ("target",))
_with("conference", "Three-way call with agent or supervisor <target>", ("target",))
_with("dtmf", "Send keys to the far end (an outside system's IVR)", ("digits",))


@router.post(
    "/dial",
    response_model=CallStateOut,
    responses=_ERRORS,
    summary="Click-to-dial: a customer's phone by index in their file, or a typed number",
)
async def call_dial(
    body: DialIn, user: Agent, request: Request, session: SessionDep
) -> CallStateOut:
    number = body.number
    if body.customer_id is not None and (body.phone_index is not None or "*" in (number or "")):
        number = await _customer_number(session, body.customer_id, body.phone_index, number)
    elif body.phone_index is not None:
        raise ApiError(400, "invalid_target", "phone_index needs the customer_id")
    args: dict[str, Any] = {"number": number} if number else {}
    if body.customer_id is not None:
        args["customer_id"] = body.customer_id
    return await _perform(request, user, "dial", args)


async def _customer_number(
    session: AsyncSession, customer_id: int, index: int | None, masked: str | None
) -> str:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise ApiError(404, "not_found", f"no customer {customer_id}")
    numbers = [p.number for p in sorted(customer.phones, key=lambda p: (not p.is_primary, p.id))]
    if masked and "*" in masked:
        matching = [n for n in numbers if mask_phone(n) == masked]
        if index is not None and 0 <= index < len(numbers) and numbers[index] in matching:
            return numbers[index]
        if len(matching) == 1:
            return matching[0]
    if index is not None and 0 <= index < len(numbers):
        return numbers[index]
    raise ApiError(400, "invalid_target", f"customer {customer_id} has no such phone")


# After the named routes: a path like /transfer must not reach this one first.
@router.post(
    "/{operation}",
    response_model=CallStateOut,
    responses=_ERRORS,
    summary="Hold, resume, complete or cancel a consultation, leave a conference, hang up",
)
async def simple(operation: Simple, user: Agent, request: Request) -> CallStateOut:
    return await _perform(request, user, operation, {})


# -- the supervisor board: an agent's call -----------------------------------------------

supervisor_router = APIRouter(prefix="/api/supervisor/agents", tags=["call control"])
Staff = Annotated[Principal, require_roles(Role.SUPERVISOR, Role.ADMIN)]
OnAgentsCall = Literal["hold", "resume", "hangup", "transfer"]


@supervisor_router.post(
    "/{agent_id}/call/{operation}",
    response_model=CallStateOut,
    responses=_ERRORS,
    summary="Hold, resume, end or transfer (target queue:<name> or agent:<ext>) an agent's call",
)
async def on_agents_call(
    agent_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)],  # a users.id
    operation: OnAgentsCall,
    user: Staff,
    request: Request,
    session: SessionDep,
    body: CallControlIn | None = None,
) -> CallStateOut:
    agent = (await session.exec(select(User).where(User.id == agent_id))).first()
    if agent is None or not agent.extension:
        raise ApiError(404, "not_found", f"no agent {agent_id} with a phone extension")
    args = {"target": body.target} if body is not None and body.target else {}
    return await _perform(request, user, operation, args, extension=agent.extension)
