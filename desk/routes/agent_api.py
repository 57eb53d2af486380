"""The signed-in agent's own state: phone sign-in, ready, not ready, wrap-up, sign-out.

Commands go to the routing service through AgentStatePort (desk/agent_state/);
refusals come back as domain errors (409 illegal transition, 422 unknown reason,
503 routing unavailable). Desktops follow the resulting state live on the websocket.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from agent_api.auth import Principal, require_roles
from agent_api.deps import ServicesDep, SessionDep
from agent_api.errors import ApiError, error_responses
from db.models import Role
from desk.agent_state.port import AgentStatus
from desk.deps import AgentStateDep
from kernel import topics
from kernel.audit import Actor, audit

router = APIRouter(prefix="/api/agent", tags=["agent state"])
Agent = Annotated[Principal, require_roles(Role.AGENT, Role.SUPERVISOR)]
ERRORS = error_responses(400, 401, 403, 409, 422, 503)


class StateOut(BaseModel):
    agent_id: int
    extension: str | None
    state: str
    reason: str | None
    since: float | None

    @classmethod
    def of(cls, s: AgentStatus) -> StateOut:
        return cls(
            agent_id=s.agent_id,
            extension=s.extension,
            state=s.state.value,
            reason=s.reason,
            since=s.since,
        )


class SignInRequest(BaseModel):
    # The phone to take calls on; default: the extension of the agent's user account.
    extension: str | None = Field(default=None, pattern=r"^[0-9A-Za-z_]{1,20}$")
    ready: bool = False


class PhoneRequest(BaseModel):
    # browser: the desk's own softphone (desk/static/phone.js), registered over WebSocket;
    # desk: the configured endpoint (a desk phone or softphone of its own).
    phone: Literal["browser", "desk"]


class NotReadyRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=40)


class WrapUpRequest(BaseModel):
    code: str | None = Field(default=None, max_length=40)


@router.get("/state", response_model=StateOut, responses=ERRORS)
async def get_state(user: Agent, port: AgentStateDep) -> StateOut:
    return StateOut.of(await port.status(user.id))


@router.post("/sign-in", response_model=StateOut, responses=ERRORS)
async def sign_in(user: Agent, port: AgentStateDep, body: SignInRequest | None = None) -> StateOut:
    body = body or SignInRequest()
    extension = body.extension or user.extension
    if not extension:
        raise ApiError(422, "no_extension", "your account has no phone extension: name one")
    return StateOut.of(await port.sign_in(user.id, extension, ready=body.ready))


@router.post("/phone", response_model=StateOut, responses=ERRORS)
async def set_phone(user: Agent, port: AgentStateDep, body: PhoneRequest) -> StateOut:
    """Which phone takes the agent's calls. With the browser phone the agent's presence is
    its registration: a page closed makes the agent not ready, and going ready needs it."""
    return StateOut.of(await port.set_phone(user.id, body.phone))


@router.post("/ready", response_model=StateOut, responses=ERRORS)
async def ready(user: Agent, port: AgentStateDep) -> StateOut:
    return StateOut.of(await port.ready(user.id))


@router.post("/not-ready", response_model=StateOut, responses=ERRORS)
async def not_ready(user: Agent, port: AgentStateDep, body: NotReadyRequest) -> StateOut:
    return StateOut.of(await port.not_ready(user.id, body.reason))


@router.post("/wrap-up", response_model=StateOut, responses=ERRORS)
async def wrap_up_done(
    user: Agent, port: AgentStateDep, services: ServicesDep, body: WrapUpRequest | None = None
) -> StateOut:
    code = body.code if body else None
    known = {c.name for c in services.settings.desk.wrap_up_codes}
    if code is not None and code not in known:
        names = ", ".join(sorted(known))
        raise ApiError(422, "unknown_wrap_up_code", f"unknown wrap-up code {code!r} ({names})")
    return StateOut.of(await port.wrap_up_done(user.id, code))


@router.post("/sign-out", response_model=StateOut, responses=ERRORS)
async def sign_out(user: Agent, port: AgentStateDep) -> StateOut:
    return StateOut.of(await port.sign_out(user.id))


class PreviewDecision(BaseModel):
    call_id: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z._-]+$")
    decision: Literal["call", "skip"]


class PreviewDecisionOut(BaseModel):
    call_id: str
    decision: str


@router.post(
    "/campaign-preview", status_code=202, response_model=PreviewDecisionOut, responses=ERRORS
)
async def campaign_preview(
    user: Agent, services: ServicesDep, session: SessionDep, body: PreviewDecision
) -> PreviewDecisionOut:
    """The agent's choice on an agent campaign's preview pop: call the customer now, or
    skip (not an attempt: the contact comes back later). The router's process carries it
    out (routing/pbx/campaign_calls.py, only for a preview offered to this agent); no
    choice within campaigns.preview_seconds places the call. Audited."""
    await services.bus.publish(
        topics.CAMPAIGN,
        {
            "type": "campaign.preview_decision",
            "agent_id": user.id,
            "call_id": body.call_id,
            "decision": body.decision,
        },
    )
    await audit(
        session,
        actor=Actor(user.id, user.display_name or user.username, user.role.value),
        action=f"campaign.preview_{body.decision}",
        object_type="call",
        object_id=body.call_id,
        clock=services.clock,
    )
    return PreviewDecisionOut(call_id=body.call_id, decision=body.decision)
