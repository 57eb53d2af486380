"""Recording control of a live call (start, pause, resume, stop) as the desk and the
supervisor board ask for it: one port, two adapters.

- `LocalControl`: the RecordingService of this process (one process, in-process bus);
- `BusControl` / `ControlServer` (control_bus.py): with several processes the
  recordings duty runs in the leading `pbx` process (hotline/cluster.py) and an `api`
  process asks it over the bus.

Who may: a supervisor or an administrator any live call, an agent only the call they
are on (`only_agent`: their extension), checked where the call's state is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from cti.commands import PbxError
from kernel.audit import Actor
from recordings.errors import CallNotLive, RecordingError
from recordings.service import RecordingService

Action = Literal["start", "pause", "resume", "stop"]
ACTIONS: tuple[Action, ...] = ("start", "pause", "resume", "stop")


class NotYourCall(RecordingError):
    """An agent asked to control a call they are not on."""


class ControlUnavailable(RecordingError):
    """No recordings service answers (no process leads right now, or it is too slow)."""


@dataclass(frozen=True)
class ControlResult:
    call_id: str
    recording_id: int | None  # None after stop... the stopped one's id otherwise
    state: Literal["recording", "paused", "stopped"]


class RecordingControl(Protocol):
    async def act(
        self, call_id: str, action: Action, actor: Actor, *, only_agent: str | None = None
    ) -> ControlResult: ...


class LocalControl:
    def __init__(self, service: RecordingService) -> None:
        self._service = service

    async def act(
        self, call_id: str, action: Action, actor: Actor, *, only_agent: str | None = None
    ) -> ControlResult:
        return await act_on(self._service, call_id, action, actor, only_agent)


async def act_on(
    service: RecordingService,
    call_id: str,
    action: Action,
    actor: Actor,
    only_agent: str | None,
) -> ControlResult:
    """Carry out `action` on the service that follows the call (both adapters end here)."""
    if only_agent is not None and service.agent_of(call_id) != only_agent:
        raise NotYourCall(f"call {call_id} is not your call")
    try:
        return await _act(service, call_id, action, actor)
    except PbxError as exc:  # the channel went away between the check and the command
        raise CallNotLive(f"the PBX refused ({exc}): is call {call_id} still live?") from None


async def _act(
    service: RecordingService, call_id: str, action: Action, actor: Actor
) -> ControlResult:
    if action == "start":
        rid = await service.start_recording(call_id, actor)
        return ControlResult(call_id, rid, "recording")
    if action == "pause":
        await service.pause(call_id, actor)
        return ControlResult(call_id, service.active_recording(call_id), "paused")
    if action == "resume":
        await service.resume(call_id, actor)
        return ControlResult(call_id, service.active_recording(call_id), "recording")
    rid = await service.stop_recording(call_id, actor)
    return ControlResult(call_id, rid, "stopped")
