"""Agent commands across processes: API workers ask, the routing process answers.

Protocol (bus topics; JSON as everywhere on the bus):
- request on "agent.command", consumed by the group "agent-commands" (one router answers):
    {"type": "agent.command", "request_id": <hex>, "command": "sign_in" | "ready" |
     "not_ready" | "wrap_up_done" | "sign_out" | "status", "agent_id": <int>,
     "extension": <str|null>, "ready": <bool>, "reason": <str|null>, "code": <str|null>,
     "expires_at": <epoch>}
- reply on "agent.command.result" (fan-out; the asking worker picks its request_id):
    {"type": "agent.command.result", "request_id", "ok": true, "status": {AgentStatus}}
    {"type": "agent.command.result", "request_id", "ok": false,
     "error": {"code": <AgentStateError.code>, "message": <text>}}
A command still unanswered at expires_at has failed for the asker (503), so the server
drops it instead of acting late (kernel/bus/rpc.py, the request/reply both sides use).

The routing service plugs in by wrapping its own AgentStatePort implementation in an
AgentCommandServer (a component with start/stop the composition root runs next to it).
"""

from __future__ import annotations

import logging
from typing import Any

from desk.agent_state.port import (
    ERRORS,
    AgentStateError,
    AgentStatePort,
    AgentStateUnavailable,
    AgentStatus,
)
from kernel import topics
from kernel.bus.port import EventBus
from kernel.bus.rpc import BusAnswerer, BusAsker, Unanswered
from kernel.clock import Clock

log = logging.getLogger("hotline.api.agent_state")

GROUP = "agent-commands"


class BusAgentState:
    """AgentStatePort over the bus (the API side)."""

    def __init__(self, bus: EventBus, clock: Clock, timeout: float = 3.0) -> None:
        self._asker = BusAsker(
            bus, topics.AGENT_COMMAND, topics.AGENT_COMMAND_RESULT, clock, timeout
        )

    async def start(self) -> None:
        await self._asker.start()

    async def stop(self) -> None:
        await self._asker.stop()

    async def _ask(self, command: str, agent_id: int, **args: Any) -> AgentStatus:
        try:
            reply = await self._asker.ask(
                {"type": "agent.command", "command": command, "agent_id": agent_id, **args}
            )
        except Unanswered:
            raise AgentStateUnavailable(
                f"routing did not answer within {self._asker.timeout:g} s: try again in a moment"
            ) from None
        if reply.get("ok"):
            return AgentStatus.from_json(reply["status"])
        error = reply.get("error") or {}
        cls = ERRORS.get(str(error.get("code")), AgentStateError)
        raise cls(str(error.get("message") or "refused"))

    async def sign_in(self, agent_id: int, extension: str, *, ready: bool = False) -> AgentStatus:
        return await self._ask("sign_in", agent_id, extension=extension, ready=ready)

    async def ready(self, agent_id: int) -> AgentStatus:
        return await self._ask("ready", agent_id)

    async def not_ready(self, agent_id: int, reason: str) -> AgentStatus:
        return await self._ask("not_ready", agent_id, reason=reason)

    async def wrap_up_done(self, agent_id: int, code: str | None = None) -> AgentStatus:
        return await self._ask("wrap_up_done", agent_id, code=code)

    async def sign_out(self, agent_id: int) -> AgentStatus:
        return await self._ask("sign_out", agent_id)

    async def status(self, agent_id: int) -> AgentStatus:
        return await self._ask("status", agent_id)

    async def set_phone(self, agent_id: int, phone: str) -> AgentStatus:
        return await self._ask("set_phone", agent_id, phone=phone)


class AgentCommandServer:
    """Answers agent commands from the bus with a real AgentStatePort (the router side)."""

    def __init__(self, bus: EventBus, port: AgentStatePort, clock: Clock) -> None:
        self._port = port
        self._answerer = BusAnswerer(
            bus, topics.AGENT_COMMAND, topics.AGENT_COMMAND_RESULT, GROUP, self._answer, clock
        )

    async def start(self) -> None:
        await self._answerer.start()

    async def stop(self) -> None:
        await self._answerer.stop()

    async def _answer(self, cmd: dict[str, Any]) -> dict[str, Any]:
        reply: dict[str, Any] = {"type": "agent.command.result"}
        try:
            status = await self._run(cmd)
            reply.update(ok=True, status=status.jsonable())
        except AgentStateError as exc:
            reply.update(ok=False, error={"code": exc.code, "message": str(exc)})
        return reply

    async def _run(self, cmd: dict[str, Any]) -> AgentStatus:
        port, agent_id, name = self._port, int(cmd["agent_id"]), cmd.get("command")
        if name == "sign_in":
            return await port.sign_in(agent_id, str(cmd["extension"]), ready=bool(cmd.get("ready")))
        if name == "ready":
            return await port.ready(agent_id)
        if name == "not_ready":
            return await port.not_ready(agent_id, str(cmd.get("reason")))
        if name == "wrap_up_done":
            return await port.wrap_up_done(agent_id, cmd.get("code"))
        if name == "sign_out":
            return await port.sign_out(agent_id)
        if name == "status":
            return await port.status(agent_id)
        if name == "set_phone":
            return await port.set_phone(agent_id, str(cmd.get("phone")))
        raise AgentStateError(f"unknown agent command {name!r}")
