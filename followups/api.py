"""HTTP API of the follow-ups (mounted by agent_api/app.py).

GET    /api/follow-ups                   follow-ups waiting for an agent
POST   /api/follow-ups/{id}/result       an agent enters the customer's answers
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from sqlmodel import col, select

from agent_api.auth import CurrentUser
from agent_api.errors import NotFound, error_responses
from db.models import FollowUp, FollowUpMethod, FollowUpState, SurveyMethod
from followups.schemas import FollowUpResult
from followups.survey_store import SurveyInput, SurveyStore
from hotline.services import Services
from tickets.service import TicketService

# Every route documents the error bodies it can give ({error, message}).
ERRORS = error_responses(400, 401, 403, 404, 409, 422)
router = APIRouter(tags=["tickets"])
FollowUpId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _tickets(request: Request) -> TicketService:
    existing = getattr(request.app.state, "tickets", None)
    return existing if isinstance(existing, TicketService) else TicketService(_services(request))


@router.get("/api/follow-ups", response_model=list[dict[str, Any]], responses=ERRORS)
async def agent_follow_ups(request: Request, user: CurrentUser) -> list[dict[str, Any]]:
    """Follow-ups queued for an agent (no number, or the customer was unreachable)."""
    async with _services(request).sessions() as session:
        rows = await session.exec(
            select(FollowUp)
            .where(FollowUp.method == FollowUpMethod.AGENT, FollowUp.state == FollowUpState.PENDING)
            .order_by(col(FollowUp.due_at))
            .limit(200)
        )
        return [task.model_dump(mode="json") for task in rows.all()]


@router.post(
    "/api/follow-ups/{follow_up_id}/result", response_model=dict[str, int], responses=ERRORS
)
async def follow_up_result(
    request: Request, follow_up_id: FollowUpId, body: FollowUpResult, user: CurrentUser
) -> dict[str, int]:
    services = _services(request)
    async with services.sessions() as session:
        task = await session.get(FollowUp, follow_up_id)
    if task is None or task.state in (FollowUpState.DONE, FollowUpState.CANCELLED):
        raise NotFound(f"no open follow-up {follow_up_id}")
    survey = await SurveyStore(services, _tickets(request)).record(
        SurveyInput(
            method=SurveyMethod.AGENT,
            rating=body.rating,
            resolved=body.resolved,
            ticket_id=task.ticket_id,
            follow_up_id=follow_up_id,
            comments=body.comments,
            agent_id=user.id,
        )
    )
    assert survey.id is not None
    return {"survey_id": survey.id}
