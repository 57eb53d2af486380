"""Small pure parts of the routing adapter: device names to agents, Linkedid aliases."""

from __future__ import annotations

import pytest

from routing.core.live import LiveCalls
from routing.core.model import Presence
from routing.core.presence import DeviceMap, presence_of


@pytest.mark.parametrize(
    ("endpoint", "device", "extension"),
    [
        ("PJSIP/{extension}", "PJSIP/1001", "1001"),
        ("PJSIP/{extension}", "PJSIP/1001-0000000a", None),  # a channel, not a device
        ("Local/{extension}@hotline-test-agent", "Local/1002@hotline-test-agent", "1002"),
        ("Local/{extension}@hotline-test-agent", "Local/95777@hotline-inbound", None),
    ],
)
def test_device_names_map_to_agent_extensions(
    endpoint: str, device: str, extension: str | None
) -> None:
    assert DeviceMap(endpoint).extension(device) == extension


def test_device_states_map_to_presence() -> None:
    assert presence_of("NOT_INUSE") is Presence.IDLE
    assert presence_of("INUSE") is Presence.BUSY
    assert presence_of("UNAVAILABLE") is Presence.ABSENT
    assert presence_of("something new") is Presence.UNKNOWN


def test_callback_attempts_alias_their_linkedid_to_the_core_call() -> None:
    live = LiveCalls()
    live.alias("hlcb-7x1xab", "cb-7")
    assert live.core_id("hlcb-7x1xab") == "cb-7"
    assert live.linkedid("cb-7") == "hlcb-7x1xab"
    assert live.core_id("1763800000.1") == "1763800000.1"
    live.get("hlcb-7x1xab").channel = "Local/138@hotline-callback-1;1"
    live.forget("hlcb-7x1xab")
    assert live.core_id("hlcb-7x1xab") == "hlcb-7x1xab"
    assert live.linkedid("cb-7") == "cb-7"
    assert "hlcb-7x1xab" not in live.calls
