"""HTTP API of the router (included by hotline/http.py).

    GET /api/routing/queues                      per queue: waiting, agents, estimated wait,
                                                 service level (any signed-in user: wallboard)
    GET /api/routing/calls?queue=                waiting calls in line order, each with its
                                                 estimated wait (supervisors, admins)
    GET /api/routing/agents                      agents: state, presence, skills (staff)
    PUT /api/routing/agents/{agent_id}/skills    skills and levels, live (staff)
    PUT /api/routing/calls/{call_id}/priority    raise or lower a waiting call (staff)
Agent state commands go through the agent API's state port (desk/agent_state).
Without a router in this process (an API-only worker) these answer 503.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from agent_api.auth import CurrentUser, Principal, require_roles
from agent_api.errors import ApiError, NotFound, error_responses
from db.models import Role
from kernel.audit import audit
from routing.model import RoutingError, UnknownAgent, UnknownCall, UnknownQueue
from routing.service import RoutingService

router = APIRouter(tags=["routing"])
ERRORS = error_responses(401, 403, 404, 422, 503)
Staff = Annotated[Principal, require_roles(Role.SUPERVISOR, Role.ADMIN)]


class SkillsIn(BaseModel):
    skills: dict[Annotated[str, Field(max_length=40)], Annotated[int, Field(ge=1, le=10)]]
    languages: list[Annotated[str, Field(pattern="^(zh|en)$")]] | None = None


class PriorityIn(BaseModel):
    priority: int = Field(ge=0, le=100_000)


def _routing(request: Request) -> RoutingService:
    service = request.app.state.services.features.routing
    if not isinstance(service, RoutingService):
        raise ApiError(503, "routing_unavailable", "the router does not run in this process")
    return service


async def _audit(request: Request, user: Principal, action: str, key: str, detail: Any) -> None:
    """Supervisor changes are audited (supervisor/api.py has the same actions, audited)."""
    services = request.app.state.services
    async with services.sessions() as session:
        await audit(
            session,
            actor=user.actor(),
            action=action,
            object_type="agent" if action == "routing.skills" else "call",
            object_id=key,
            source="routing",
            detail=detail,
            clock=services.clock,
        )


def _domain(exc: RoutingError | ValueError) -> ApiError:
    if isinstance(exc, UnknownAgent | UnknownCall | UnknownQueue):
        return NotFound(f"not found: {exc}")
    return ApiError(422, "invalid_request", str(exc))


@router.get("/api/routing/queues", responses=ERRORS)
async def queues(request: Request, user: CurrentUser) -> list[dict[str, Any]]:
    return _routing(request).queues()


@router.get("/api/routing/calls", responses=ERRORS)
async def waiting_calls(
    request: Request,
    user: Staff,
    queue: Annotated[str | None, Query(max_length=40)] = None,
) -> list[dict[str, Any]]:
    try:
        return _routing(request).waiting_calls(queue)
    except UnknownQueue as exc:
        raise _domain(exc) from None


@router.get("/api/routing/agents", responses=ERRORS)
async def agents(request: Request, user: Staff) -> list[dict[str, Any]]:
    return _routing(request).agents()


@router.put("/api/routing/agents/{agent_id}/skills", responses=ERRORS)
async def set_skills(
    request: Request,
    user: Staff,
    body: SkillsIn,
    agent_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> dict[str, Any]:
    service = _routing(request)
    try:
        await service.set_skills(agent_id, body.skills, body.languages)
        view = service.agent(agent_id)
    except (RoutingError, ValueError) as exc:
        raise _domain(exc) from None
    await _audit(request, user, "routing.skills", str(agent_id), body.model_dump())
    return view


@router.put("/api/routing/calls/{call_id}/priority", responses=ERRORS)
async def set_priority(
    request: Request,
    user: Staff,
    body: PriorityIn,
    call_id: Annotated[str, Path(max_length=64)],
) -> dict[str, Any]:
    service = _routing(request)
    try:
        await service.set_call_priority(call_id, body.priority)
    except RoutingError as exc:
        raise _domain(exc) from None
    await _audit(request, user, "routing.call_priority", call_id, body.model_dump())
    return {"call_id": call_id, "priority": body.priority}
