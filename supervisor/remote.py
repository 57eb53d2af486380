"""The supervisor's board and actions wherever the router and the AMI link are.

Listening in and the board need the router and the PBX link, which run in the leading
`pbx` process (hotline/cluster.py); the supervisor's page talks to whichever `api`
process the load balancer picked. So every board read and action is one `perform` call:
in this process when the router runs here (one process, or the leader serving HTTP),
else over the bus (kernel/bus/rpc.py) to the leader's `SupervisorServer`, which performs
it with the same code and the same audit rows (the actor travels with the request).

Request on "supervisor.action" (group "supervisor-actions"):
    {"type": "supervisor.action", "operation": board | spy | spy_sessions | switch_spy |
     stop_spy | set_skills | set_priority, "args": {...},
     "actor": {"id", "username", "display_name", "role", "extension"}}
Reply on "supervisor.action.result":
    {"ok": true, "result": <JSON>} or {"ok": false, "status", "code", "message"}
"""

from __future__ import annotations

import math
from typing import Any

from agent_api.app import HttpFeature
from agent_api.auth import Principal
from cti.commands import SpyMode
from db.models import Role
from desk.agent_state.port import AgentStatePort
from hotline.services import Services
from kernel import topics
from kernel.bus import is_shared
from kernel.bus.rpc import BusAnswerer, BusAsker, Unanswered
from supervisor.actions import SupervisorActions
from supervisor.actions_board import board as build_board
from supervisor.actions_errors import ActionRefused

GROUP = "supervisor-actions"
OPERATIONS = (
    "board",
    "spy",
    "spy_sessions",
    "switch_spy",
    "stop_spy",
    "set_skills",
    "set_priority",
)


async def perform(
    services: Services,
    agent_state: AgentStatePort,
    operation: str,
    actor: Principal,
    args: dict[str, Any],
) -> Any:
    """Carry out one board read or action here; the result is JSON-ready."""
    actions = SupervisorActions(services, agent_state)
    if operation == "board":
        return await build_board(services)
    if operation == "spy":
        mode = SpyMode(args["mode"])
        session = await actions.spy(actor, int(args["agent_id"]), mode, args.get("extension"))
        return session.jsonable()
    if operation == "spy_sessions":
        return [s.jsonable() for s in await actions.spy_sessions()]
    if operation == "switch_spy":
        switched = await actions.switch_spy(actor, str(args["session_id"]), SpyMode(args["mode"]))
        return switched.jsonable()
    if operation == "stop_spy":
        await actions.stop_spy(actor, str(args["session_id"]))
        return None
    if operation == "set_skills":
        agent_id, skills = int(args["agent_id"]), dict(args["skills"])
        return await actions.set_skills(actor, agent_id, skills, args.get("languages"))
    if operation == "set_priority":
        call_id, priority = str(args["call_id"]), int(args["priority"])
        return await actions.set_call_priority(actor, call_id, priority)
    raise ActionRefused(400, "unknown_operation", f"no supervisor operation {operation!r}")


def performs_here(services: Services) -> bool:
    """Does this process run the router (or is there no other process to ask)?"""
    return services.features.routing is not None or not is_shared(services.settings.redis.url)


def _actor_json(actor: Principal) -> dict[str, Any]:
    return {
        "id": actor.id,
        "username": actor.username,
        "display_name": actor.display_name,
        "role": actor.role.value,
        "extension": actor.extension,
    }


def _actor(data: dict[str, Any]) -> Principal:
    return Principal(
        id=int(data["id"]),
        username=str(data["username"]),
        display_name=str(data.get("display_name") or data["username"]),
        role=Role(data["role"]),
        extension=data.get("extension"),
        token_id="bus",  # checked by the asking process
        expires_at=math.inf,
    )


class RemoteSupervisor:
    """The asking side, in an `api` process (a component of the HTTP app)."""

    def __init__(self, services: Services, timeout: float = 10.0) -> None:
        # Listening in rings the supervisor's phone first: longer than an agent command.
        self._asker = BusAsker(
            services.bus,
            topics.SUPERVISOR_ACTION,
            topics.SUPERVISOR_ACTION_RESULT,
            services.clock,
            timeout,
        )

    async def start(self) -> None:
        await self._asker.start()

    async def stop(self) -> None:
        await self._asker.stop()

    async def perform(self, operation: str, actor: Principal, args: dict[str, Any]) -> Any:
        try:
            reply = await self._asker.ask(
                {
                    "type": "supervisor.action",
                    "operation": operation,
                    "args": args,
                    "actor": _actor_json(actor),
                }
            )
        except Unanswered:
            raise ActionRefused(
                503, "routing_unavailable", "the router did not answer: try again in a moment"
            ) from None
        if reply.get("ok"):
            return reply.get("result")
        raise ActionRefused(
            int(reply.get("status") or 502), str(reply.get("code")), str(reply.get("message"))
        )


def remote_feature(services: Services) -> HttpFeature:
    """What the HTTP app needs to ask the leader (nothing with the in-process bus)."""
    if not is_shared(services.settings.redis.url):
        return HttpFeature()
    remote = RemoteSupervisor(services)
    return HttpFeature(state={"remote_supervisor": remote}, components=[remote])


class SupervisorServer:
    """The answering side: a duty of the leading process (hotline/wiring.py)."""

    def __init__(self, services: Services, agent_state: AgentStatePort) -> None:
        self._services = services
        self._agent_state = agent_state
        self._answerer = BusAnswerer(
            services.bus,
            topics.SUPERVISOR_ACTION,
            topics.SUPERVISOR_ACTION_RESULT,
            GROUP,
            self._answer,
            services.clock,
        )

    async def start(self) -> None:
        await self._answerer.start()

    async def stop(self) -> None:
        await self._answerer.stop()

    async def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            result = await perform(
                self._services,
                self._agent_state,
                str(request.get("operation")),
                _actor(request.get("actor") or {}),
                dict(request.get("args") or {}),
            )
        except ActionRefused as exc:
            return {"ok": False, "status": exc.status, "code": exc.code, "message": exc.message}
        return {"ok": True, "result": result}
