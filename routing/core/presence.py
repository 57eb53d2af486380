"""Agent presence from the PBX's device states (bus topic "pbx", type device.state). Pure.

The device of an agent is its dial string (pbx.dialplan.agent_endpoint with the
extension filled in): "PJSIP/1001", or "Local/1001@hotline-test-agent" in the sandbox.
"""

from __future__ import annotations

import re

from routing.core.model import Presence

# AMI DeviceStateChange State values (ast_devstate_str).
_PRESENCE = {
    "NOT_INUSE": Presence.IDLE,
    "UNKNOWN": Presence.UNKNOWN,
    "INUSE": Presence.BUSY,
    "BUSY": Presence.BUSY,
    "RINGING": Presence.BUSY,
    "RINGINUSE": Presence.BUSY,
    "ONHOLD": Presence.BUSY,
    "UNAVAILABLE": Presence.ABSENT,
    "INVALID": Presence.ABSENT,
}


class DeviceMap:
    def __init__(self, agent_endpoint: str) -> None:
        before, _, after = agent_endpoint.partition("{extension}")
        self._pattern = re.compile(
            f"^{re.escape(before)}(?P<ext>[^/@;-]+){re.escape(after)}$", re.IGNORECASE
        )

    def extension(self, device: str) -> str | None:
        m = self._pattern.match(device)
        return m.group("ext") if m else None


def presence_of(state: str) -> Presence:
    return _PRESENCE.get(state.upper(), Presence.UNKNOWN)
