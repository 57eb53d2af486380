"""POST /api/calls/{linkedid}/recording/{start|pause|resume|stop}: recording control of a
live call from the desk (the agent's own call) and the supervisor board (any live
call). Every action is audited by the recordings service (recording.start, .pause,
.resume, .stop with the user); the call's detail lists them (GET /api/calls/{linkedid}).

The control is this process's recordings service with the in-process bus, else the
leading process's over the bus (recordings/control_bus.py).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from agent_api.app import HttpFeature
from agent_api.auth import Principal, require_roles
from agent_api.errors import AccessDenied, ApiError, NotFound, error_responses
from db.models import Role
from hotline.services import Features, Services
from kernel.audit import Actor
from kernel.bus import is_shared
from recordings.control import (
    Action,
    ControlResult,
    ControlUnavailable,
    LocalControl,
    NotYourCall,
    RecordingControl,
)
from recordings.control_bus import BusControl
from recordings.errors import CallNotLive, NoActiveRecording

router = APIRouter(prefix="/api/calls", tags=["recordings"])
Controller = Annotated[Principal, require_roles(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)]
Linkedid = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$")]


class RecordingControlOut(BaseModel):
    call_id: str
    recording_id: int | None
    state: Literal["recording", "paused", "stopped"]


class _CurrentLocal:
    """This process's recordings service as it is now (it comes and goes with the
    leadership, hotline/cluster.py)."""

    def __init__(self, features: Features) -> None:
        self._features = features

    async def act(
        self, call_id: str, action: Action, actor: Actor, *, only_agent: str | None = None
    ) -> ControlResult:
        service = self._features.recordings
        if service is None:  # one process without the PBX side: no call is live here
            raise CallNotLive(f"call {call_id} is not live in this process")
        return await LocalControl(service).act(call_id, action, actor, only_agent=only_agent)


def control_feature(services: Services) -> HttpFeature:
    if is_shared(services.settings.redis.url):
        control = BusControl(services.bus, services.clock)
        return HttpFeature(
            routers=[router], state={"recording_control": control}, components=[control]
        )
    local = _CurrentLocal(services.features)
    return HttpFeature(routers=[router], state={"recording_control": local})


@router.post(
    "/{linkedid}/recording/{action}",
    response_model=RecordingControlOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
    summary="Start, pause, resume or stop recording a live call (agents: their own call)",
)
async def control(
    linkedid: Linkedid,
    action: Literal["start", "pause", "resume", "stop"],
    user: Controller,
    request: Request,
) -> RecordingControlOut:
    port: RecordingControl = request.app.state.recording_control
    only = None if user.is_staff() else (user.extension or "")
    try:
        result = await port.act(linkedid, action, user.actor(), only_agent=only)
    except NotYourCall as exc:
        raise AccessDenied(str(exc)) from None
    except CallNotLive as exc:
        raise NotFound(f"{exc} (unknown, not answered yet, or ended)") from None
    except NoActiveRecording as exc:
        raise ApiError(409, "no_active_recording", str(exc)) from None
    except ControlUnavailable as exc:
        raise ApiError(503, "recording_unavailable", str(exc)) from None
    return RecordingControlOut(
        call_id=result.call_id, recording_id=result.recording_id, state=result.state
    )
