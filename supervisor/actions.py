"""SupervisorActions: what a supervisor (or admin) does to agents and calls, each audited.

    actions = SupervisorActions(services, agent_state)   # agent_state: AgentStatePort
    await actions.spy(actor, agent_id, SpyMode.LISTEN, extension=None)
    await actions.switch_spy(actor, session_id, SpyMode.WHISPER); await actions.stop_spy(...)
    await actions.force_not_ready(actor, agent_id, "meeting"); await actions.force_sign_out(...)
    await actions.set_skills(actor, agent_id, {"billing": 8}, ["zh"])
    await actions.set_call_priority(actor, linkedid, 2000)

Every call writes one audit_log row (kernel/audit.py) whether it is done or refused:
action "supervisor.<verb>", detail {"outcome": "done"|"refused", "error": code, ...}.
Refusals raise ActionRefused (supervisor/actions_errors.py) after the row is written.

Who does the work: listen/whisper/barge go to the PBX (services.pbx, see actions_spy.py);
agent state goes through the agent state port (the router's state machine in this
process or over the bus); skills and call priority through the routing service
(services.features.routing), which applies them to its next decision.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, TypeVar

from sqlmodel import select

from agent_api.auth import Principal
from cti.commands import SpyMode
from db.models import Role, User
from desk.agent_state.port import AgentStatePort
from hotline.services import Services
from kernel.audit import audit
from supervisor.actions_errors import ActionRefused, refusal
from supervisor.actions_spy import Spying, SpySession

T = TypeVar("T")


class SupervisorActions:
    def __init__(self, services: Services, agent_state: AgentStatePort) -> None:
        self._services = services
        self._agent_state = agent_state

    # -- plumbing ----------------------------------------------------------------------------

    async def _audited(
        self,
        actor: Principal,
        verb: str,
        object_type: str,
        object_id: str | int,
        detail: dict[str, Any],
        work: Awaitable[T],
    ) -> T:
        try:
            result = await work
        except Exception as exc:
            refused = refusal(exc)
            if refused is None:
                await self._audit(actor, verb, object_type, object_id, detail, "failed")
                raise
            detail = {**detail, "error": refused.code, "message": refused.message}
            await self._audit(actor, verb, object_type, object_id, detail, "refused")
            raise refused from exc
        await self._audit(actor, verb, object_type, object_id, detail, "done")
        return result

    async def _audit(
        self,
        actor: Principal,
        verb: str,
        object_type: str,
        object_id: str | int,
        detail: dict[str, Any],
        outcome: str,
    ) -> None:
        async with self._services.sessions() as session:
            await audit(
                session,
                actor=actor.actor(),
                action=f"supervisor.{verb}",
                object_type=object_type,
                object_id=object_id,
                source="supervisor",
                detail={**detail, "outcome": outcome},
                clock=self._services.clock,
            )

    def _spying(self) -> Spying:
        pbx = self._services.pbx
        if pbx is None:
            raise ActionRefused(503, "pbx_unavailable", "this server has no link to the PBX")
        return Spying(pbx, self._services.settings.pbx.dialplan, self._services.settings.pbx)

    def _routing(self) -> Any:
        routing = self._services.features.routing
        if routing is None:
            raise ActionRefused(
                503, "routing_unavailable", "the router does not run in this server process"
            )
        return routing

    async def agent(self, agent_id: int) -> User:
        async with self._services.sessions() as session:
            user = (await session.exec(select(User).where(User.id == agent_id))).first()
        if user is None or not user.active:
            raise ActionRefused(404, "not_found", f"no user {agent_id}")
        if not user.extension:
            raise ActionRefused(404, "not_an_agent", f"{user.username} has no phone extension")
        return user

    # -- listen / whisper / barge ------------------------------------------------------------

    async def spy(
        self, actor: Principal, agent_id: int, mode: SpyMode, extension: str | None = None
    ) -> SpySession:
        """Ring the supervisor's phone (their own extension; an admin may name another)
        and, once answered, spy on the agent's call in `mode`."""
        detail: dict[str, Any] = {"mode": mode.value, "extension": extension}

        async def work() -> SpySession:
            phone = extension or actor.extension
            if not phone:
                raise ActionRefused(
                    422, "no_extension", "you have no phone extension: give one to ring"
                )
            if phone != actor.extension and actor.role is not Role.ADMIN:
                raise ActionRefused(
                    403, "forbidden", "only your own extension may be rung to listen to a call"
                )
            detail["extension"] = phone
            user = await self.agent(agent_id)
            assert user.extension is not None
            detail["agent_extension"] = user.extension
            started = await self._spying().start(
                agent_extension=user.extension,
                supervisor_extension=phone,
                mode=mode,
                by=actor.username,
            )
            detail["session_id"] = started.session_id
            return started

        return await self._audited(actor, mode.value, "agent", agent_id, detail, work())

    async def spy_sessions(self) -> list[SpySession]:
        try:
            return await self._spying().sessions()
        except Exception as exc:
            raise (refusal(exc) or exc) from exc

    async def _own_session(self, actor: Principal, session_id: str) -> SpySession:
        session = await self._spying().session(session_id)
        if session.supervisor != actor.username and actor.role is not Role.ADMIN:
            raise ActionRefused(403, "forbidden", "this listening session is someone else's")
        return session

    async def switch_spy(self, actor: Principal, session_id: str, mode: SpyMode) -> SpySession:
        detail: dict[str, Any] = {"mode": mode.value}

        async def work() -> SpySession:
            session = await self._own_session(actor, session_id)
            detail.update(
                previous=session.mode.value if session.mode else None,
                agent_extension=session.agent_extension,
            )
            return await self._spying().switch(session, mode)

        return await self._audited(actor, "spy_mode", "spy_session", session_id, detail, work())

    async def stop_spy(self, actor: Principal, session_id: str) -> None:
        detail: dict[str, Any] = {}

        async def work() -> None:
            session = await self._own_session(actor, session_id)
            detail["agent_extension"] = session.agent_extension
            await self._spying().stop(session)

        await self._audited(actor, "spy_stop", "spy_session", session_id, detail, work())

    # -- agent state ---------------------------------------------------------------------------

    async def force_not_ready(self, actor: Principal, agent_id: int, reason: str) -> Any:
        """Not ready with `reason`; during a call the router applies it after the wrap-up."""

        async def work() -> Any:
            await self.agent(agent_id)
            return await self._agent_state.not_ready(agent_id, reason)

        return await self._audited(
            actor, "force_not_ready", "agent", agent_id, {"reason": reason}, work()
        )

    async def force_sign_out(self, actor: Principal, agent_id: int) -> Any:
        async def work() -> Any:
            await self.agent(agent_id)
            return await self._agent_state.sign_out(agent_id)

        return await self._audited(actor, "force_sign_out", "agent", agent_id, {}, work())

    # -- routing -------------------------------------------------------------------------------

    async def set_skills(
        self,
        actor: Principal,
        agent_id: int,
        skills: Mapping[str, int],
        languages: Sequence[str] | None,
    ) -> dict[str, Any]:
        detail: dict[str, Any] = {"skills": dict(skills), "languages": languages}

        async def work() -> dict[str, Any]:
            routing = self._routing()
            before = routing.agent(agent_id)
            detail["before"] = {"skills": before["skills"], "languages": before["languages"]}
            await routing.set_skills(agent_id, skills, languages)
            view: dict[str, Any] = routing.agent(agent_id)
            return view

        return await self._audited(actor, "skills", "agent", agent_id, detail, work())

    async def set_call_priority(
        self, actor: Principal, call_id: str, priority: int
    ) -> dict[str, Any]:
        detail: dict[str, Any] = {"priority": priority}

        async def work() -> dict[str, Any]:
            routing = self._routing()
            detail["before"] = routing.waiting_call(call_id)["priority"]
            await routing.set_call_priority(call_id, priority)
            view: dict[str, Any] = routing.waiting_call(call_id)
            return view

        return await self._audited(actor, "call_priority", "call", call_id, detail, work())
