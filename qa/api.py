"""The /qa/ page and the quality-inspection API (QA inspectors, supervisors, admins; an
agent reads only their own scores and evaluation). Errors are {error, message}.

    GET  /api/qa/forms                         the scoring forms of config (qa.forms)
    GET  /api/qa/agents                        agents, for the page's choosers
    GET  /api/qa/samples?week=&state=&agent_id=   the inspection queue
    POST /api/qa/samples/draw {week?, per_agent?} draw N random calls per agent (audited)
    GET  /api/qa/calls/{call_id}               a call to score: its recordings (play them at
                                               /api/recordings/{id}/audio) and scores
    POST /api/qa/scores {call_id, answers, fatal, comment, form_key?}  201 (audited); the
                                               call's previous score is superseded
    GET  /api/qa/scores?agent_id=&call_id=     scores
    GET  /api/qa/my-scores                     the signed-in user's own current scores
    POST /api/qa/ratings {agent_id, period, score 1-5, comment}  supervisors, admins (audited)
    GET  /api/qa/agents/{agent_id}/ratings     supervisor ratings of an agent
    GET  /api/qa/evaluation?days=              the signed-in agent's own evaluation
    GET  /api/qa/agents/{agent_id}/evaluation?days=   any agent's evaluation
    GET  /qa/                                  the page (qa/static/)
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse

from agent_api.app import HttpFeature
from agent_api.auth import Principal, require_roles
from agent_api.deps import client_address
from agent_api.errors import ApiError, NotFound, error_responses
from db.models import Role, SampleState
from hotline.services import Services
from kernel.audit import Actor
from qa.errors import AgentNotFound, CallNotFound, Conflict, InvalidWeek, NotScorable, QaError
from qa.schemas import USER, WEEK_PATTERN, DrawIn, RatingIn, ScoreIn
from qa.service import QaService

router = APIRouter(prefix="/api/qa", tags=["qa"])
pages = APIRouter(include_in_schema=False)
STATIC = FsPath(__file__).parent / "static"
Anyone = Annotated[Principal, require_roles(Role.AGENT, Role.SUPERVISOR, Role.QA, Role.ADMIN)]
Inspector = Annotated[Principal, require_roles(Role.QA, Role.SUPERVISOR, Role.ADMIN)]
Rater = Annotated[Principal, require_roles(Role.SUPERVISOR, Role.ADMIN)]
CallId = Annotated[int, Path(ge=1, le=2**53)]
AgentId = Annotated[int, Path(ge=1, le=USER)]
Days = Annotated[int | None, Query(ge=1, le=366, description="default: qa.evaluation_days")]
ERRORS = error_responses(400, 401, 403, 404, 409, 422)


def _service(request: Request) -> QaService:
    service: QaService = request.app.state.qa
    return service


def _actor(request: Request, user: Principal) -> Actor:
    return Actor(user.id, user.username, user.role.value, client_address(request))


def _http(exc: QaError) -> ApiError:
    if isinstance(exc, CallNotFound | AgentNotFound):
        return NotFound(str(exc))
    if isinstance(exc, Conflict):
        return ApiError(409, "conflict", str(exc))
    if isinstance(exc, InvalidWeek):
        return ApiError(422, "invalid_week", str(exc))
    if isinstance(exc, NotScorable):
        return ApiError(422, "invalid_score", str(exc))
    return ApiError(422, "invalid_request", str(exc))


@router.get("/forms", responses=ERRORS)
async def forms(request: Request, user: Anyone) -> dict[str, Any]:
    return _service(request).forms()


@router.get("/agents", responses=ERRORS)
async def agents(request: Request, user: Inspector) -> list[dict[str, Any]]:
    return await _service(request).agents()


@router.get("/samples", responses=ERRORS)
async def samples(
    request: Request,
    user: Inspector,
    week: Annotated[str | None, Query(pattern=WEEK_PATTERN)] = None,
    state: SampleState | None = None,
    agent_id: Annotated[int | None, Query(ge=1, le=USER)] = None,
) -> list[dict[str, Any]]:
    return await _service(request).samples(week, state.value if state else None, agent_id)


@router.post("/samples/draw", responses=ERRORS)
async def draw_samples(request: Request, user: Inspector, body: DrawIn) -> dict[str, Any]:
    try:
        return await _service(request).draw_samples(
            _actor(request, user), body.week, body.per_agent
        )
    except QaError as exc:
        raise _http(exc) from None


@router.get("/calls/{call_id}", responses=ERRORS)
async def call(request: Request, user: Inspector, call_id: CallId) -> dict[str, Any]:
    try:
        return await _service(request).call(call_id)
    except QaError as exc:
        raise _http(exc) from None


@router.post("/scores", status_code=201, responses=ERRORS)
async def add_score(request: Request, user: Inspector, body: ScoreIn) -> dict[str, Any]:
    try:
        return await _service(request).score(
            _actor(request, user),
            call_id=body.call_id,
            form_key=body.form_key,
            answers=body.answers,
            fatal=body.fatal,
            comment=body.comment,
        )
    except QaError as exc:
        raise _http(exc) from None


@router.get("/scores", responses=ERRORS)
async def scores(
    request: Request,
    user: Inspector,
    agent_id: Annotated[int | None, Query(ge=1, le=USER)] = None,
    call_id: Annotated[int | None, Query(ge=1, le=2**53)] = None,
) -> list[dict[str, Any]]:
    return await _service(request).scores(agent_id, call_id)


@router.get("/my-scores", responses=ERRORS)
async def my_scores(request: Request, user: Anyone) -> list[dict[str, Any]]:
    return await _service(request).my_scores(user.id)


@router.post("/ratings", status_code=201, responses=ERRORS)
async def rate(request: Request, user: Rater, body: RatingIn) -> dict[str, Any]:
    try:
        return await _service(request).rate(
            _actor(request, user),
            agent_id=body.agent_id,
            period=body.period,
            score=body.score,
            comment=body.comment,
        )
    except QaError as exc:
        raise _http(exc) from None


@router.get("/agents/{agent_id}/ratings", responses=ERRORS)
async def ratings(request: Request, user: Inspector, agent_id: AgentId) -> list[dict[str, Any]]:
    try:
        return await _service(request).ratings(agent_id)
    except QaError as exc:
        raise _http(exc) from None


@router.get("/evaluation", responses=ERRORS)
async def my_evaluation(request: Request, user: Anyone, days: Days = None) -> dict[str, Any]:
    if user.role is not Role.AGENT:
        raise ApiError(
            422, "not_an_agent", "only agents are evaluated: read an agent's evaluation by id"
        )
    try:
        return await _service(request).evaluation(user.id, days)
    except QaError as exc:
        raise _http(exc) from None


@router.get("/agents/{agent_id}/evaluation", responses=ERRORS)
async def evaluation(
    request: Request, user: Inspector, agent_id: AgentId, days: Days = None
) -> dict[str, Any]:
    try:
        return await _service(request).evaluation(agent_id, days)
    except QaError as exc:
        raise _http(exc) from None


@pages.get("/qa")
async def page_root() -> RedirectResponse:
    return RedirectResponse("/qa/")


def qa_feature(services: Services) -> HttpFeature:
    """The API, its service on app.state.qa, and the page at /qa/."""
    return HttpFeature(
        routers=[router, pages],
        state={"qa": QaService(services)},
        static={"/qa": STATIC},
    )
