"""HTTP API of the supervisor actions (included by hotline/http.py) and the supervisor page.

Supervisors and admins only; every action is audited (supervisor/actions.py), refused
ones too. Errors are {error, message} (agent_api/errors.py).

    GET    /api/supervisor/board                        agents (state, time in state, caller),
                                                        waiting calls, reasons, skills
    POST   /api/supervisor/agents/{agent_id}/spy        {mode: listen|whisper|barge,
                                                         extension?} -> 201 a spy session:
                                                        the supervisor's phone rings, then
                                                        ChanSpy on the agent's call
    GET    /api/supervisor/spy                          live spy sessions
    PUT    /api/supervisor/spy/{session_id}             {mode}: switch without ringing again
    DELETE /api/supervisor/spy/{session_id}             hang the supervisor's leg up (204)
    POST   /api/supervisor/agents/{agent_id}/not-ready  {reason}: force not ready
    POST   /api/supervisor/agents/{agent_id}/sign-out   force signed out
    PUT    /api/supervisor/agents/{agent_id}/skills     {skills: {name: 1..10}, languages?}
    PUT    /api/supervisor/calls/{call_id}/priority     {priority}: move a waiting call
    GET    /supervisor/                                 the page (supervisor/static/)
"""

from __future__ import annotations

import re
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import BaseModel, Field

from agent_api.auth import Principal, require_roles
from agent_api.errors import NotFound, error_responses
from cti.commands import SpyMode
from db.models import Role
from supervisor import live_api
from supervisor.actions import SupervisorActions
from supervisor.remote import RemoteSupervisor, perform, performs_here

router = APIRouter(tags=["supervisor"])
Staff = Annotated[Principal, require_roles(Role.SUPERVISOR, Role.ADMIN)]
ERRORS = error_responses(400, 401, 403, 404, 409, 422, 502, 503)  # 400: body not JSON
STATIC = FsPath(__file__).parent / "static"
_ASSET = re.compile(r"^[a-z][a-z0-9_-]{0,40}\.(js|css|html|svg)$")
# Listed once (no file system calls on the event loop per request).
ASSETS = frozenset(p.name for p in STATIC.glob("*") if _ASSET.match(p.name))

AgentId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SessionId = Annotated[str, Path(pattern=r"^hlsp-[A-Za-z0-9]{1,40}$")]
Extension = Annotated[str, Field(pattern=r"^[0-9]{2,10}$")]
Name = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]


class SpyIn(BaseModel):
    mode: SpyMode
    extension: Extension | None = Field(
        None, description="The phone to ring; default your own (only admins may name another)"
    )


class ModeIn(BaseModel):
    mode: SpyMode


class NotReadyIn(BaseModel):
    reason: Name


class SkillsIn(BaseModel):
    skills: dict[Name, Annotated[int, Field(ge=1, le=10)]]
    languages: list[Annotated[str, Field(pattern="^(zh|en)$")]] | None = None


class PriorityIn(BaseModel):
    priority: int = Field(ge=0, le=100_000)


def _actions(request: Request) -> SupervisorActions:
    return SupervisorActions(request.app.state.services, request.app.state.agent_state)


async def _perform(request: Request, user: Principal, operation: str, **args: Any) -> Any:
    """Here when the router runs in this process, else in the leading one over the bus
    (supervisor/remote.py)."""
    services = request.app.state.services
    if performs_here(services):
        return await perform(services, request.app.state.agent_state, operation, user, args)
    remote: RemoteSupervisor = request.app.state.remote_supervisor
    return await remote.perform(operation, user, args)


@router.get("/api/supervisor/board", responses=ERRORS)
async def board(request: Request, user: Staff) -> dict[str, Any]:
    result: dict[str, Any] = await _perform(request, user, "board")
    return result


@router.post("/api/supervisor/agents/{agent_id}/spy", status_code=201, responses=ERRORS)
async def spy(request: Request, user: Staff, agent_id: AgentId, body: SpyIn) -> dict[str, Any]:
    session: dict[str, Any] = await _perform(
        request, user, "spy", agent_id=agent_id, mode=body.mode.value, extension=body.extension
    )
    return session


@router.get("/api/supervisor/spy", responses=ERRORS)
async def spy_sessions(request: Request, user: Staff) -> list[dict[str, Any]]:
    sessions: list[dict[str, Any]] = await _perform(request, user, "spy_sessions")
    return sessions


@router.put("/api/supervisor/spy/{session_id}", responses=ERRORS)
async def switch_spy(
    request: Request, user: Staff, session_id: SessionId, body: ModeIn
) -> dict[str, Any]:
    result: dict[str, Any] = await _perform(
        request, user, "switch_spy", session_id=session_id, mode=body.mode.value
    )
    return result


@router.delete("/api/supervisor/spy/{session_id}", status_code=204, responses=ERRORS)
async def stop_spy(request: Request, user: Staff, session_id: SessionId) -> Response:
    await _perform(request, user, "stop_spy", session_id=session_id)
    return Response(status_code=204)


@router.post("/api/supervisor/agents/{agent_id}/not-ready", responses=ERRORS)
async def force_not_ready(
    request: Request, user: Staff, agent_id: AgentId, body: NotReadyIn
) -> dict[str, Any]:
    status = await _actions(request).force_not_ready(user, agent_id, body.reason)
    result: dict[str, Any] = status.jsonable()
    return result


@router.post("/api/supervisor/agents/{agent_id}/sign-out", responses=ERRORS)
async def force_sign_out(request: Request, user: Staff, agent_id: AgentId) -> dict[str, Any]:
    result: dict[str, Any] = (await _actions(request).force_sign_out(user, agent_id)).jsonable()
    return result


@router.put("/api/supervisor/agents/{agent_id}/skills", responses=ERRORS)
async def set_skills(
    request: Request, user: Staff, agent_id: AgentId, body: SkillsIn
) -> dict[str, Any]:
    result: dict[str, Any] = await _perform(
        request, user, "set_skills", agent_id=agent_id, skills=body.skills, languages=body.languages
    )
    return result


@router.put("/api/supervisor/calls/{call_id}/priority", responses=ERRORS)
async def set_priority(
    request: Request,
    user: Staff,
    body: PriorityIn,
    call_id: Annotated[str, Path(max_length=64)],
) -> dict[str, Any]:
    result: dict[str, Any] = await _perform(
        request, user, "set_priority", call_id=call_id, priority=body.priority
    )
    return result


# -- the live view's routes ------------------------------------------------------------------
# The composition root includes only this module; the live view (websocket, wallboard)
# joins here. Included before the page routes below, so /supervisor/<name> paths of its own
# are not taken by the assets.
router.include_router(live_api.router)


# -- the page (no data without a token: it signs in like the desktop) ---------------------------


@router.get("/supervisor", include_in_schema=False)
async def page_root() -> RedirectResponse:
    return RedirectResponse("/supervisor/")


@router.get("/supervisor/", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(STATIC / "supervisor.html", headers={"Cache-Control": "no-cache"})


@router.get("/supervisor/{name}", include_in_schema=False)
async def asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise NotFound(f"no such file: /supervisor/{name}")
    return FileResponse(STATIC / name, headers={"Cache-Control": "no-cache"})
