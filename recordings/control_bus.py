"""Recording control across processes (kernel/bus/rpc.py): the desk or the supervisor
board in an `api` process asks, the recordings service of the leading `pbx` process
(hotline/cluster.py) answers.

Request on "recording.control" (group "recording-control"):
    {"type": "recording.control", "call_id", "action": start|pause|resume|stop,
     "actor": {"id", "name", "role"}, "only_agent": <extension|null>}
Reply on "recording.control.result":
    {"ok": true, "call_id", "recording_id", "state"} or
    {"ok": false, "error": {"code": <one of ERRORS>, "message"}}
"""

from __future__ import annotations

from typing import Any

from kernel import topics
from kernel.audit import Actor
from kernel.bus.port import EventBus
from kernel.bus.rpc import BusAnswerer, BusAsker, Unanswered
from kernel.clock import Clock
from recordings.control import Action, ControlResult, ControlUnavailable, NotYourCall, act_on
from recordings.errors import CallNotLive, NoActiveRecording, RecordingError
from recordings.service import RecordingService

GROUP = "recording-control"
ERRORS: dict[str, type[RecordingError]] = {
    "call_not_live": CallNotLive,
    "no_active_recording": NoActiveRecording,
    "not_your_call": NotYourCall,
}
CODES = {cls: code for code, cls in ERRORS.items()}


class BusControl:
    """RecordingControl over the bus (the API side)."""

    def __init__(self, bus: EventBus, clock: Clock, timeout: float = 5.0) -> None:
        self._asker = BusAsker(
            bus, topics.RECORDING_CONTROL, topics.RECORDING_CONTROL_RESULT, clock, timeout
        )

    async def start(self) -> None:
        await self._asker.start()

    async def stop(self) -> None:
        await self._asker.stop()

    async def act(
        self, call_id: str, action: Action, actor: Actor, *, only_agent: str | None = None
    ) -> ControlResult:
        try:
            reply = await self._asker.ask(
                {
                    "type": "recording.control",
                    "call_id": call_id,
                    "action": action,
                    "actor": {"id": actor.id, "name": actor.name, "role": actor.role},
                    "only_agent": only_agent,
                }
            )
        except Unanswered:
            raise ControlUnavailable(
                "the recordings service did not answer: try again in a moment"
            ) from None
        if reply.get("ok"):
            return ControlResult(reply["call_id"], reply.get("recording_id"), reply["state"])
        error = reply.get("error") or {}
        raise ERRORS.get(str(error.get("code")), RecordingError)(str(error.get("message")))


class ControlServer:
    """Answers recording control requests with this process's RecordingService."""

    def __init__(self, bus: EventBus, service: RecordingService, clock: Clock) -> None:
        self._service = service
        self._answerer = BusAnswerer(
            bus,
            topics.RECORDING_CONTROL,
            topics.RECORDING_CONTROL_RESULT,
            GROUP,
            self._answer,
            clock,
        )

    async def start(self) -> None:
        await self._answerer.start()

    async def stop(self) -> None:
        await self._answerer.stop()

    async def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        who = request.get("actor") or {}
        actor = Actor(who.get("id"), str(who.get("name") or "unknown"), who.get("role"))
        action = request.get("action")
        if action not in ("start", "pause", "resume", "stop"):
            return {"ok": False, "error": {"code": "invalid", "message": f"no action {action!r}"}}
        try:
            result = await act_on(
                self._service, str(request["call_id"]), action, actor, request.get("only_agent")
            )
        except RecordingError as exc:
            code = CODES.get(type(exc), "refused")
            return {"ok": False, "error": {"code": code, "message": str(exc)}}
        return {
            "ok": True,
            "call_id": result.call_id,
            "recording_id": result.recording_id,
            "state": result.state,
        }
