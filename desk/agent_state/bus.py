"""Agent commands across processes: API workers ask, the routing process answers.

Protocol (bus topics; JSON as everywhere on the bus):
- request on "agent.command", consumed by the group "agent-commands" (one router answers):
    {"type": "agent.command", "command_id": <hex>, "command": "sign_in" | "ready" |
     "not_ready" | "wrap_up_done" | "sign_out" | "status", "agent_id": <int>,
     "extension": <str|null>, "ready": <bool>, "reason": <str|null>, "code": <str|null>,
     "expires_at": <epoch>}
- reply on "agent.command.result" (fan-out; the asking worker picks its command_id):
    {"type": "agent.command.result", "command_id", "ok": true, "status": {AgentStatus}}
    {"type": "agent.command.result", "command_id", "ok": false,
     "error": {"code": <AgentStateError.code>, "message": <text>}}
A command still unanswered at expires_at has failed for the asker (503), so the server
drops it instead of acting late (a redelivery after a crash must not surprise anyone).

The routing service plugs in by wrapping its own AgentStatePort implementation in an
AgentCommandServer (a component with start/stop the composition root runs next to it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from desk.agent_state.port import (
    ERRORS,
    AgentStateError,
    AgentStatePort,
    AgentStateUnavailable,
    AgentStatus,
)
from kernel import topics
from kernel.bus.port import BusClosed, EventBus, Subscription
from kernel.clock import Clock

log = logging.getLogger("hotline.api.agent_state")

GROUP = "agent-commands"


class BusAgentState:
    """AgentStatePort over the bus (the API side)."""

    def __init__(self, bus: EventBus, clock: Clock, timeout: float = 3.0) -> None:
        self._bus = bus
        self._clock = clock
        self._timeout = timeout
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._sub: Subscription | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._sub = await self._bus.subscribe(topics.AGENT_COMMAND_RESULT, buffer=10_000)
        self._task = asyncio.create_task(self._read(self._sub), name="agent-command-results")

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for fut in self._waiting.values():
            fut.cancel()

    async def _read(self, sub: Subscription) -> None:
        while True:
            try:
                msg = await sub.get()
            except BusClosed:
                return
            fut = self._waiting.get(str(msg.data.get("command_id")))
            if fut is not None and not fut.done():
                fut.set_result(msg.data)

    async def _ask(self, command: str, agent_id: int, **args: Any) -> AgentStatus:
        if self._sub is None:
            await self.start()
        command_id = uuid.uuid4().hex
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[command_id] = fut
        try:
            await self._bus.publish(
                topics.AGENT_COMMAND,
                {
                    "type": "agent.command",
                    "command_id": command_id,
                    "command": command,
                    "agent_id": agent_id,
                    "expires_at": self._clock.timestamp() + self._timeout,
                    **args,
                },
            )
            try:
                reply = await asyncio.wait_for(fut, self._timeout)
            except TimeoutError:
                raise AgentStateUnavailable(
                    f"routing did not answer within {self._timeout:g} s: try again in a moment"
                ) from None
        finally:
            self._waiting.pop(command_id, None)
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


class AgentCommandServer:
    """Answers agent commands from the bus with a real AgentStatePort (the router side)."""

    def __init__(self, bus: EventBus, port: AgentStatePort, clock: Clock) -> None:
        self._bus = bus
        self._port = port
        self._clock = clock
        self._sub: Subscription | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._sub = await self._bus.subscribe(topics.AGENT_COMMAND, group=GROUP)
        self._task = asyncio.create_task(self._serve(self._sub), name="agent-command-server")

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _serve(self, sub: Subscription) -> None:
        while True:
            try:
                msg = await sub.get()
            except BusClosed:
                return
            try:
                await self._answer(msg.data)
            except Exception:
                log.exception("agent command %s failed", msg.data.get("command"))
            await sub.ack(msg)

    async def _answer(self, cmd: dict[str, Any]) -> None:
        if float(cmd.get("expires_at") or 0) < self._clock.timestamp():
            log.info("dropping expired agent command %s", cmd.get("command_id"))
            return
        reply: dict[str, Any] = {"type": "agent.command.result", "command_id": cmd["command_id"]}
        try:
            status = await self._run(cmd)
            reply.update(ok=True, status=status.jsonable())
        except AgentStateError as exc:
            reply.update(ok=False, error={"code": exc.code, "message": str(exc)})
        await self._bus.publish(topics.AGENT_COMMAND_RESULT, reply)

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
        raise AgentStateError(f"unknown agent command {name!r}")
