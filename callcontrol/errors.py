"""What a call-control request can fail with; the HTTP layer maps `status` and `code`."""

from __future__ import annotations


class CallControlError(Exception):
    status = 409
    code = "refused"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class NotOnCall(CallControlError):
    code = "not_on_call"


class WrongState(CallControlError):
    """The call is not in a state that allows it (resume a call not on hold, ...)."""

    code = "wrong_state"


class InvalidTarget(CallControlError):
    status = 422
    code = "invalid_target"


class TargetNotFree(CallControlError):
    code = "agent_not_free"


class OnAnotherNode(CallControlError):
    """The agent talks with a caller of another Asterisk node through the inter-node
    trunk: moving the trunk's legs would cut the call (not supported yet)."""

    code = "call_on_another_node"


class ControlUnavailable(CallControlError):
    status = 503
    code = "call_control_unavailable"


ERRORS: dict[str, type[CallControlError]] = {
    cls.code: cls
    for cls in (
        CallControlError,
        NotOnCall,
        WrongState,
        InvalidTarget,
        TargetNotFree,
        OnAnotherNode,
        ControlUnavailable,
    )
}
