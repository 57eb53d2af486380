"""Several Asterisk nodes in the router's adapter, the pure parts: where an agent's phone
is (device states of every node), and which bridged calls the rebuild adopts when a call
crosses the inter-node trunk."""

from __future__ import annotations

from cti.commands import ChannelInfo
from routing.core.model import Presence
from routing.core.presence import AgentNodes, DeviceMap
from routing.pbx.restore import outbound_trunk_legs, talking_calls, trunk_extension

CONFIGURED = {"1001": "na", "1011": "nb"}


def test_a_phone_is_where_a_node_reports_it_present_else_where_it_is_configured() -> None:
    nodes = AgentNodes(CONFIGURED.get)
    assert nodes.node_of("1001") == "na"
    assert nodes.node_of("1002") is None
    # The phone of 1001 registers on nb (the agent moved desks): nb's state counts.
    assert nodes.seen("1001", "nb", Presence.IDLE)
    assert nodes.node_of("1001") == "nb"
    # na, where it is not registered any more, says UNAVAILABLE: not the agent's presence.
    assert not nodes.seen("1001", "na", Presence.ABSENT)
    assert nodes.node_of("1001") == "nb"
    # nb says it is gone: the agent is absent, and back to its configured node.
    assert nodes.seen("1001", "nb", Presence.ABSENT)
    assert nodes.node_of("1001") == "na"
    # Absent on its own configured node: that is the agent's presence.
    assert nodes.seen("1011", "nb", Presence.ABSENT)
    assert not nodes.seen("1011", "na", Presence.ABSENT)


def leg(uid: str, linkedid: str, channel: str, bridge: str, node: str) -> ChannelInfo:
    return ChannelInfo(uid, linkedid, channel, "", "", "Up", "", bridge, "00:00:30", node=node)


# Caller na-1.1 on node na talks to agent 1011 on node nb through the trunk.
CHANNELS = [
    leg("na-1.1", "na-1.1", "Local/95777@hotline-inbound-00000003;2", "b-na", "na"),
    leg("na-1.2", "na-1.1", "PJSIP/hotline-node-nb-00000004", "b-na", "na"),
    leg("nb-1.1", "nb-1.1", "PJSIP/hotline-node-na-00000002", "b-nb", "nb"),
    leg("nb-1.2", "nb-1.1", "Local/1011@hotline-test-agent-00000001;1", "b-nb", "nb"),
]
DEVICES = DeviceMap("Local/{extension}@hotline-test-agent")


def test_the_rebuild_adopts_a_cross_node_call_as_the_callers_with_its_agent() -> None:
    (pair,) = outbound_trunk_legs(CHANNELS)
    assert (pair[0].uniqueid, pair[1].uniqueid) == ("na-1.2", "na-1.1")
    assert trunk_extension("PJSIP/1011@hotline-node-nb") == "1011"
    assert trunk_extension("Local/1011@hotline-test-agent") is None
    (t,) = talking_calls(CHANNELS, DEVICES, {"1011"}, {"PJSIP/hotline-node-nb-00000004": "1011"})
    assert (t.linkedid, t.extension, t.node) == ("na-1.1", "1011", "na")
    assert t.caller_channel == "Local/95777@hotline-inbound-00000003;2"


def test_without_the_callers_dial_string_the_far_half_is_still_not_a_call() -> None:
    # The agent's node alone shows the agent bridged with the trunk: that is not a call
    # of its own (the caller's node has it), so it is never adopted under nb's id.
    assert talking_calls(CHANNELS, DEVICES, {"1011"}) == []
