"""/api/agent/call: the signed-in agent's call controls (the desk's buttons).

    GET  /api/agent/call                      the agent's call now (state, who is on it)
    POST /api/agent/call/hold | resume | complete | cancel | leave | hangup
    POST /api/agent/call/transfer   {"target": "agent:1002" | "queue:billing" | "number:..."}
    POST /api/agent/call/consult    {"target": "1002"}     attended transfer, step 1
    POST /api/agent/call/conference {"target": "1002"}     three-way call
    POST /api/agent/call/dial       {"number": "138...", "customer_id": 7}  click-to-dial
    POST /api/agent/call/dtmf       {"digits": "1#"}

A supervisor (or an administrator) acts on an agent's call from the board:
    POST /api/supervisor/agents/{agent_id}/call/hold | resume | hangup | transfer {target}

Carried out where the AMI link runs (this process, or the leader over the bus:
callcontrol/bus.py), each audited there as "call.<operation>".
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sqlmodel import select

from agent_api.app import HttpFeature
from agent_api.auth import Principal, require_roles
from agent_api.deps import SessionDep
from agent_api.errors import ApiError, error_responses
from callcontrol.bus import BusControl, CallControlPort, LocalControl
from callcontrol.errors import CallControlError
from db.models import Role, User
from hotline.services import Services
from kernel.bus import is_shared

router = APIRouter(prefix="/api/agent/call", tags=["call control"])
Agent = Annotated[Principal, require_roles(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)]
Simple = Literal["hold", "resume", "complete", "cancel", "leave", "hangup"]


class CallControlIn(BaseModel):
    target: str | None = Field(default=None, max_length=64)
    number: str | None = Field(default=None, max_length=24)
    customer_id: int | None = Field(default=None, ge=1)
    digits: str | None = Field(default=None, max_length=40)


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
    return CallStateOut(**{k: v for k, v in result.items() if k in known})


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
_with("dial", "Click-to-dial a customer from the desk", ("number", "customer_id"))
_with("dtmf", "Send keys to the far end (an outside system's IVR)", ("digits",))


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
