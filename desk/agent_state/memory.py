"""An agent state machine of the API's own, standing in until the routing service is
wired (the router then owns the states). Publishes agent.state on topic "agent" exactly as
routing/pbx/dispatcher.py does, so desktops and tests see the same events either way.

It knows no calls: reserved/on_call/wrap_up are only entered through `set_state` (tests,
a test dispatcher); wrap_up_done leaves wrap_up.
"""

from __future__ import annotations

from collections.abc import Iterable

from db.models import AgentStateName as S
from desk.agent_state.port import (
    AgentNotSignedIn,
    AgentStatus,
    IllegalAgentTransition,
    UnknownReason,
)
from kernel import topics
from kernel.bus.port import EventBus
from kernel.clock import Clock

BUSY = (S.RESERVED, S.ON_CALL)


class InMemoryAgentState:
    def __init__(self, bus: EventBus, clock: Clock, reasons: Iterable[str]) -> None:
        self._bus = bus
        self._clock = clock
        self._reasons = frozenset(reasons)
        self._agents: dict[int, AgentStatus] = {}
        self._pending_reason: dict[int, str] = {}

    async def status(self, agent_id: int) -> AgentStatus:
        return self._agents.get(agent_id) or AgentStatus(agent_id, None, S.LOGGED_OUT)

    async def sign_in(self, agent_id: int, extension: str, *, ready: bool = False) -> AgentStatus:
        current = await self.status(agent_id)
        if current.state is not S.LOGGED_OUT:
            return current
        return await self._move(agent_id, extension, S.AVAILABLE if ready else S.NOT_READY)

    async def set_phone(self, agent_id: int, phone: str) -> AgentStatus:
        return await self.status(agent_id)  # no PBX here: every phone is the same

    async def ready(self, agent_id: int) -> AgentStatus:
        current = self._signed_in(agent_id)
        if current.state in BUSY:
            if agent_id in self._pending_reason:
                del self._pending_reason[agent_id]  # cancels a remembered not-ready
                return current
            raise IllegalAgentTransition(f"cannot become ready while {current.state.value}")
        if current.state is S.AVAILABLE:
            return current
        return await self._move(agent_id, current.extension, S.AVAILABLE)

    async def not_ready(self, agent_id: int, reason: str) -> AgentStatus:
        if reason not in self._reasons:
            known = ", ".join(sorted(self._reasons))
            raise UnknownReason(f"unknown not-ready reason {reason!r} (known: {known})")
        current = self._signed_in(agent_id)
        if current.state in BUSY:
            self._pending_reason[agent_id] = reason
            return current
        return await self._move(agent_id, current.extension, S.NOT_READY, reason)

    async def wrap_up_done(self, agent_id: int, code: str | None = None) -> AgentStatus:
        current = self._signed_in(agent_id)
        if current.state is not S.WRAP_UP:
            raise IllegalAgentTransition(f"no wrap-up to finish while {current.state.value}")
        reason = self._pending_reason.pop(agent_id, None)
        if reason is not None:
            return await self._move(agent_id, current.extension, S.NOT_READY, reason)
        return await self._move(agent_id, current.extension, S.AVAILABLE)

    async def sign_out(self, agent_id: int) -> AgentStatus:
        current = await self.status(agent_id)
        if current.state is S.LOGGED_OUT:
            return current
        if current.state in BUSY:
            raise IllegalAgentTransition(f"cannot sign out while {current.state.value}")
        self._pending_reason.pop(agent_id, None)
        return await self._move(agent_id, current.extension, S.LOGGED_OUT)

    async def set_state(self, agent_id: int, state: S, reason: str | None = None) -> AgentStatus:
        """What the router would do (reserve, connect, wrap up); for tests and stand-ins."""
        current = self._signed_in(agent_id)
        return await self._move(agent_id, current.extension, state, reason)

    def _signed_in(self, agent_id: int) -> AgentStatus:
        current = self._agents.get(agent_id)
        if current is None or current.state is S.LOGGED_OUT:
            raise AgentNotSignedIn("sign in to your phone first")
        return current

    async def _move(
        self, agent_id: int, extension: str | None, state: S, reason: str | None = None
    ) -> AgentStatus:
        now = self._clock.timestamp()
        status = AgentStatus(agent_id, extension, state, reason, now)
        self._agents[agent_id] = status
        await self._bus.publish(
            topics.AGENT,
            {
                "type": "agent.state",
                "agent_id": agent_id,
                "extension": extension,
                "state": state.value,
                "reason": reason,
                "at": now,
            },
        )
        return status
