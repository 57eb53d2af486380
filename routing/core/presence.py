"""Agent presence from the PBX's device states (bus topic "pbx", type device.state). Pure.

The device of an agent is its dial string (pbx.dialplan.agent_endpoint with the
extension filled in): "PJSIP/1001", or "Local/1001@hotline-test-agent" in the sandbox.
"""

from __future__ import annotations

import re
from collections.abc import Callable

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


class AgentNodes:
    """Which Asterisk node each agent's phone is on, when there are several: learned from
    the nodes' device states (a phone is registered where its state is not absent), else
    the node configured for its extension (pbx.nodes[].agents). Pure."""

    def __init__(self, configured: Callable[[str], str | None] = lambda _: None) -> None:
        self._configured = configured
        self._seen: dict[str, str] = {}  # extension -> node that reported it present

    def seen(self, extension: str, node: str, presence: Presence) -> bool:
        """A node reported the phone's state; True when that node is (now) the phone's
        node, so its state is the agent's presence (another node, where the phone is not
        registered, says UNAVAILABLE about it, and must not make the agent absent)."""
        if presence is not Presence.ABSENT:
            self._seen[extension] = node
            return True
        home = self._seen.get(extension) or self._configured(extension)
        if home is None or home == node:
            self._seen.pop(extension, None)
            return True
        return False

    def node_of(self, extension: str) -> str | None:
        return self._seen.get(extension) or self._configured(extension)
