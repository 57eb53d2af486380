"""AgentStatePort: what the agent API asks of routing about an agent's own state.

The router owns the agent state machine (routing/core/model.py: logged_out, available,
reserved, on_call, wrap_up, not_ready); the API only sends the agent's commands and shows
the answer. Every state change is also published by whoever owns the machine on bus topic
"agent" as {"type": "agent.state", "agent_id", "extension", "state", "reason", "at"}, which
is what desktops follow live (desk/push/).

Implementations:
- memory.InMemoryAgentState: a small machine of its own, used until the routing service
  is wired (and in tests);
- bus.BusAgentState: sends the command over the bus to an AgentCommandServer that wraps
  the real implementation in the routing process (several API workers, one router).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

from db.models import AgentStateName


@dataclass(frozen=True, slots=True)
class AgentStatus:
    agent_id: int
    extension: str | None
    state: AgentStateName
    reason: str | None = None
    since: float | None = None  # epoch seconds of the last change

    def jsonable(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AgentStatus:
        return cls(
            agent_id=int(data["agent_id"]),
            extension=data.get("extension"),
            state=AgentStateName(data["state"]),
            reason=data.get("reason"),
            since=data.get("since"),
        )


class AgentStateError(Exception):
    """A command the agent state owner refused; `code` is stable across the bus."""

    code = "invalid_command"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class IllegalAgentTransition(AgentStateError):
    code = "illegal_transition"


class UnknownReason(AgentStateError):
    code = "unknown_reason"


class AgentNotSignedIn(AgentStateError):
    code = "not_signed_in"


class PhoneNotRegistered(AgentStateError):
    """The agent chose its browser phone and that phone is not registered."""

    code = "phone_offline"


class AgentStateUnavailable(AgentStateError):
    """Nobody answered: the routing service is down or not wired."""

    code = "routing_unavailable"


ERRORS: dict[str, type[AgentStateError]] = {
    cls.code: cls
    for cls in (
        AgentStateError,
        IllegalAgentTransition,
        UnknownReason,
        AgentNotSignedIn,
        AgentStateUnavailable,
        PhoneNotRegistered,
    )
}


class AgentStatePort(Protocol):
    async def sign_in(self, agent_id: int, extension: str, *, ready: bool = False) -> AgentStatus:
        """Sign in to the phone `extension` (and so to the queues of the agent's skills);
        not ready unless `ready`. Signing in again changes nothing."""
        ...

    async def ready(self, agent_id: int) -> AgentStatus: ...

    async def not_ready(self, agent_id: int, reason: str) -> AgentStatus:
        """`reason` is one of routing.not_ready_reasons. During a call the request is
        remembered and applies after the wrap-up."""
        ...

    async def wrap_up_done(self, agent_id: int, code: str | None = None) -> AgentStatus: ...

    async def sign_out(self, agent_id: int) -> AgentStatus: ...

    async def status(self, agent_id: int) -> AgentStatus: ...

    async def set_phone(self, agent_id: int, phone: str) -> AgentStatus:
        """Take calls on the browser phone ("browser") or the configured one ("desk")."""
        ...
