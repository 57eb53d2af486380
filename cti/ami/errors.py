"""Typed failures of the AMI link; callers decide, nothing is swallowed."""

from __future__ import annotations

from cti.ami.frames import Frame


class AmiError(Exception):
    pass


class AmiNotConnected(AmiError):
    """The link to Asterisk is down (and did not come back within the action's timeout)."""


class AmiTimeout(AmiError):
    """Asterisk did not answer an action in time."""


class AmiActionFailed(AmiError):
    """Asterisk answered `Response: Error`."""

    def __init__(self, action: str, frame: Frame) -> None:
        self.action = action
        self.frame = frame
        self.message = frame.get("Message", "")
        super().__init__(f"{action} failed: {self.message or frame}")
