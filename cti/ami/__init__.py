"""The project's own AMI client (see client.py for why it wraps panoramisk this way)."""

from cti.ami.client import AmiClient, AmiResponse
from cti.ami.errors import AmiActionFailed, AmiError, AmiNotConnected, AmiTimeout
from cti.ami.frames import Frame, FrameParser, chan_variables, multi

__all__ = [
    "AmiActionFailed",
    "AmiClient",
    "AmiError",
    "AmiNotConnected",
    "AmiResponse",
    "AmiTimeout",
    "Frame",
    "FrameParser",
    "chan_variables",
    "multi",
]
