"""HTTP API of the router (included by hotline/http.py).

    GET /api/routing/queues                      per queue: waiting, agents, estimated wait,
                                                 service level (any signed-in user: wallboard)
    GET /api/routing/calls?queue=                waiting calls in line order, each with its
                                                 estimated wait (supervisors, admins)
    GET /api/routing/agents                      agents: state, presence, skills (staff)
Changing an agent's skills or a waiting call's priority is a supervisor action, audited:
PUT /api/supervisor/agents/{agent_id}/skills and /api/supervisor/calls/{call_id}/priority
(supervisor/api.py).
Agent state commands go through the agent API's state port (desk/agent_state).
Without a router in this process (an API-only worker) these answer 503.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from agent_api.auth import CurrentUser, Principal, require_roles
from agent_api.errors import ApiError, NotFound, error_responses
from db.models import Role
from routing.core.model import RoutingError, UnknownAgent, UnknownCall, UnknownQueue
from routing.service import RoutingService

router = APIRouter(tags=["routing"])
ERRORS = error_responses(401, 403, 404, 422, 503)
Staff = Annotated[Principal, require_roles(Role.SUPERVISOR, Role.ADMIN)]


def _routing(request: Request) -> RoutingService:
    service = request.app.state.services.features.routing
    if not isinstance(service, RoutingService):
        raise ApiError(503, "routing_unavailable", "the router does not run in this process")
    return service


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
