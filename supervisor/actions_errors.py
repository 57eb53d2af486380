"""ActionRefused: why a supervisor action did not happen, with the HTTP status it maps to.

`refusal(exc)` turns the errors of the parts the actions use (agent state port, router,
PBX commands) into one ActionRefused, so an action is audited with a stable code and the
API answers {error: code, message: sentence}. Anything else is a bug and is re-raised.
"""

from __future__ import annotations

from agent_api.errors import ApiError
from cti.commands import ChannelNotFound, PbxError, PbxRejected, PbxUnavailable
from desk.agent_state.port import (
    AgentNotSignedIn,
    AgentStateError,
    AgentStateUnavailable,
    IllegalAgentTransition,
    UnknownReason,
)
from routing.core import model as routing


class ActionRefused(ApiError):
    """An ApiError, so the API's handler answers it as {error: code, message} with status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, code, message)


def refusal(exc: Exception) -> ActionRefused | None:
    if isinstance(exc, ActionRefused):
        return exc
    if isinstance(exc, AgentStateError):
        return _agent_state(exc)
    if isinstance(exc, routing.UnknownAgent):
        return ActionRefused(404, "not_found", f"the router does not know agent {exc}")
    if isinstance(exc, routing.UnknownCall):
        return ActionRefused(404, "not_found", f"no waiting call {exc}")
    if isinstance(exc, routing.UnknownQueue):
        return ActionRefused(404, "not_found", f"no queue {exc}")
    if isinstance(exc, routing.IllegalTransition):
        return ActionRefused(409, "illegal_transition", str(exc))
    if isinstance(exc, routing.RoutingError | ValueError):
        return ActionRefused(422, "invalid_request", str(exc))
    if isinstance(exc, PbxUnavailable):
        return ActionRefused(503, "pbx_unavailable", f"the PBX cannot be reached: {exc}")
    if isinstance(exc, ChannelNotFound):
        return ActionRefused(404, "not_found", "the call or phone is gone (hung up)")
    if isinstance(exc, PbxRejected):
        return ActionRefused(502, "pbx_rejected", f"the PBX refused: {exc.reason}")
    if isinstance(exc, PbxError):
        return ActionRefused(502, "pbx_error", f"the PBX command failed: {exc}")
    return None


def _agent_state(exc: AgentStateError) -> ActionRefused:
    if isinstance(exc, AgentNotSignedIn):
        return ActionRefused(409, "not_signed_in", "the agent is not signed in")
    if isinstance(exc, IllegalAgentTransition):
        return ActionRefused(409, "illegal_transition", f"the agent {exc}")
    if isinstance(exc, UnknownReason):
        return ActionRefused(422, "unknown_reason", str(exc))
    if isinstance(exc, AgentStateUnavailable):
        return ActionRefused(503, "routing_unavailable", str(exc))
    if exc.code == "not_an_agent":
        return ActionRefused(404, "not_an_agent", "this user is not set up to take calls")
    return ActionRefused(422, exc.code, str(exc))
