"""Call control across processes (kernel/bus/rpc.py): the desk in an `api` process
asks, the leading `pbx` process (AMI link and router, hotline/cluster.py) answers.

Request on "call.control" (group "call-control"):
    {"type": "call.control", "operation", "extension", "args": {...},
     "actor": {"id", "name", "role"}}
Reply on "call.control.result":
    {"ok": true, "result": {...}} or {"ok": false, "error": {"code", "message"}}
"""

from __future__ import annotations

from typing import Any, Protocol

from callcontrol.errors import ERRORS, CallControlError, ControlUnavailable, NotOnCall
from callcontrol.service import CallControl
from hotline.services import Features, Services
from kernel import topics
from kernel.audit import Actor
from kernel.bus.rpc import BusAnswerer, BusAsker, Unanswered

GROUP = "call-control"
# A consultation waits for the hold to settle, a transfer for the agent's leg to go.
TIMEOUT_SECONDS = 15.0


class CallControlPort(Protocol):
    async def perform(
        self, operation: str, extension: str, actor: Actor, args: dict[str, Any]
    ) -> dict[str, Any]: ...


class LocalControl:
    """This process's PBX link and router, as they are now (they come and go with the
    leadership)."""

    def __init__(self, services: Services, features: Features) -> None:
        self._services = services
        self._features = features

    async def perform(
        self, operation: str, extension: str, actor: Actor, args: dict[str, Any]
    ) -> dict[str, Any]:
        if self._services.pbx is None:
            # One process without the PBX side (no bus to ask either): no call is live here.
            if operation == "state":
                return {"call_id": None, "state": "idle"}
            raise NotOnCall("no call is live in this process: it has no link to the PBX")
        return await CallControl(self._services).perform(operation, extension, actor, args)


class BusControl:
    """The asking side (a component of an `api` process's HTTP app)."""

    def __init__(self, services: Services) -> None:
        self._asker = BusAsker(
            services.bus,
            topics.CALL_CONTROL,
            topics.CALL_CONTROL_RESULT,
            services.clock,
            TIMEOUT_SECONDS,
        )

    async def start(self) -> None:
        await self._asker.start()

    async def stop(self) -> None:
        await self._asker.stop()

    async def perform(
        self, operation: str, extension: str, actor: Actor, args: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            reply = await self._asker.ask(
                {
                    "type": "call.control",
                    "operation": operation,
                    "extension": extension,
                    "args": args,
                    "actor": {"id": actor.id, "name": actor.name, "role": actor.role},
                }
            )
        except Unanswered:
            raise ControlUnavailable("the PBX side did not answer: try again in a moment") from None
        if reply.get("ok"):
            result: dict[str, Any] = reply.get("result") or {}
            return result
        error = reply.get("error") or {}
        cls = ERRORS.get(str(error.get("code")), CallControlError)
        raise cls(str(error.get("message")))


class CallControlServer:
    """The answering side: a duty of the leading process (hotline/wiring.py)."""

    def __init__(self, services: Services) -> None:
        self._control = CallControl(services)
        self._answerer = BusAnswerer(
            services.bus,
            topics.CALL_CONTROL,
            topics.CALL_CONTROL_RESULT,
            GROUP,
            self._answer,
            services.clock,
        )

    async def start(self) -> None:
        await self._answerer.start()

    async def stop(self) -> None:
        await self._answerer.stop()

    async def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        who = request.get("actor") or {}
        actor = Actor(who.get("id"), str(who.get("name") or "unknown"), who.get("role"))
        try:
            result = await self._control.perform(
                str(request.get("operation")),
                str(request.get("extension") or ""),
                actor,
                dict(request.get("args") or {}),
            )
        except CallControlError as exc:
            return {"ok": False, "error": {"code": exc.code, "message": exc.message}}
        return {"ok": True, "result": result}
