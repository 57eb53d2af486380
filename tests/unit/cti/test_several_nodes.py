"""Several Asterisk nodes, the pure parts: the configuration (pbx.nodes), the dial
string between nodes, the rendered systemname and trunk, and what each node's tracker
makes of a call that crosses the trunk."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import ValidationError

from cti.commands import ChannelInfo, ChannelNotFound, OriginatePurpose, PbxUnavailable
from cti.fake_pbx import FakePbx
from cti.nodes import NodeDialling, NodesPbx, on_node
from cti.pbx_config import RenderParams, node_overrides, params_from_settings, render_config
from cti.tracking.tracker import CallTracker
from kernel.config import Settings, load_settings
from kernel.config.pbx import DEFAULT_NODE, PbxNode, PbxSettings
from tests.unit.cti.scenario import ended, run

REPO = Path(__file__).resolve().parents[3]
NODES = [
    {"name": "na", "ami": {"port": 5038}, "sip": {"port": 5060}, "agents": ["1001-1009"]},
    {
        "name": "nb",
        "ami": {"port": 5039},
        "sip": {"host": "10.0.0.2", "port": 5062},
        "agents": ["1010-1019", "2001"],
    },
]


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(REPO / "config.yaml", env={"HOTLINE_PBX__NODES": json.dumps(NODES)})


def test_without_nodes_the_one_node_is_pbx_ami_named_default() -> None:
    pbx = PbxSettings()
    (only,) = pbx.node_list()
    assert only.name == DEFAULT_NODE
    assert only.ami == pbx.ami
    assert not pbx.several


def test_nodes_must_have_distinct_names_and_ami_addresses() -> None:
    with pytest.raises(ValidationError, match="names must differ"):
        PbxSettings.model_validate({"nodes": [{"name": "na"}, {"name": "na", "ami": {"port": 1}}]})
    with pytest.raises(ValidationError, match="one AMI address"):
        PbxSettings.model_validate({"nodes": [{"name": "na"}, {"name": "nb"}]})
    with pytest.raises(ValidationError):
        PbxNode(name="Node A")  # the name goes into systemname and an endpoint name


@pytest.mark.parametrize(
    ("extension", "expected"),
    [("1001", True), ("1009", True), ("1010", False), ("100", False), ("10010", False)],
)
def test_a_node_serves_the_extensions_in_its_ranges(extension: str, expected: bool) -> None:
    assert PbxNode(name="na", agents=("1001-1009",)).serves(extension) is expected


def test_an_agent_on_another_node_is_dialled_through_the_trunk(settings: Settings) -> None:
    dialling = NodeDialling(settings.pbx)
    assert dialling.home("1005") == "na"
    assert dialling.home("2001") == "nb"
    assert dialling.dial("1005", "nb") == "PJSIP/1005@hotline-node-na"
    assert dialling.dial("1015", "na") == "PJSIP/1015@hotline-node-nb"
    # Same node, unknown home, unknown caller node, a node not configured: the dialplan.
    assert dialling.dial("1005", "na") is None
    assert dialling.dial("3001", "na") is None
    assert dialling.dial("1005", None) is None
    assert dialling.dial("1005", "default") is None
    # A phone seen elsewhere than configured: where it is wins.
    assert dialling.dial("1005", "na", home="nb") == "PJSIP/1005@hotline-node-nb"
    assert NodeDialling(PbxSettings()).dial("1005", "na", home="nb") is None


def test_each_node_renders_its_systemname_and_a_trunk_to_every_other(settings: Settings) -> None:
    for name, peer, host, port in (("na", "nb", "10.0.0.2", 5062), ("nb", "na", "127.0.0.1", 5060)):
        params = params_from_settings(
            settings, **node_overrides(settings, name), trunk_secret="s3cret"
        )
        files = render_config(settings, params)
        assert f"\nsystemname = {name}\n" in files["asterisk.conf"]
        pjsip = files["pjsip.conf"]
        assert f"[hotline-node-{peer}](internode-endpoint)" in pjsip
        assert f"contact = sip:{host}:{port}" in pjsip
        assert f"from_user = hotline-node-{name}" in pjsip  # how the peer knows it
        assert f"username = hotline-node-{peer}\npassword = s3cret" in pjsip
        assert "[hotline-internode]" in files["extensions.conf"]
        assert f"bind = {params.sip_bind}:{params.sip_port}" in pjsip
        assert params.sip_bind == ("10.0.0.2" if name == "nb" else "127.0.0.1")
    single = render_config(settings, RenderParams())
    assert "\nsystemname" not in single["asterisk.conf"]
    assert "(internode-endpoint)\n" not in single["pjsip.conf"].split("; >>> hotline:internode")[1]


CROSSING = """
0    Newchannel  nb-1.1   nb-1.1   Channel=PJSIP/hotline-node-na-00000001 Context=hotline-internode Exten=1011
0.1  Newchannel  nb-1.2   nb-1.1   Channel=Local/1011@hotline-test-agent-00000001;1
0.2  Newchannel  nb-1.3   nb-1.1   Channel=Local/1011@hotline-test-agent-00000001;2
5    Hangup      nb-1.3   nb-1.1   Cause=16
5    Hangup      nb-1.2   nb-1.1   Cause=16
5    Hangup      nb-1.1   nb-1.1   Cause=16
"""


def test_the_far_node_makes_no_call_of_the_trunks_legs() -> None:
    tracker, events = run(CROSSING)
    assert events == []
    assert tracker.calls == {}


OFFER_THROUGH_TRUNK = """
0   Newchannel  na-1.1  na-1.1  Channel=PJSIP/carrier-00000001 Context=hotline-inbound Exten=95777 CallerIDNum=13800000001
2   DialBegin   na-1.1  na-1.1  DestUniqueid=na-1.2 DestChannel=PJSIP/hotline-node-nb-00000002 DialString=1011@hotline-node-nb
2   Newchannel  na-1.2  na-1.1  Channel=PJSIP/hotline-node-nb-00000002
3   DialEnd     na-1.1  na-1.1  DestUniqueid=na-1.2 DestChannel=PJSIP/hotline-node-nb-00000002 DialStatus=ANSWER
9   Hangup      na-1.2  na-1.1  Cause=16
9   Hangup      na-1.1  na-1.1  Cause=16
"""


def test_the_callers_node_records_the_agent_from_the_dial_string() -> None:
    _, events = run(OFFER_THROUGH_TRUNK)
    offered = [e for e in events if e["type"] == "call.offered"]
    answered = [e for e in events if e["type"] == "call.answered"]
    assert [e["agent"] for e in offered] == ["1011"]
    assert [e["agent"] for e in answered] == ["1011"]
    (call,) = ended(events)
    assert call["agent"] == "1011"
    assert call["talk_seconds"] == pytest.approx(6.0)


# -- one command port over several nodes (cti/nodes.py) -----------------------------


@dataclass
class Link:
    ready: bool = True


@dataclass
class Node:
    """A node's bridge as NodesPbx sees it: its tracker, link and commands."""

    node: str
    tracker: CallTracker = field(default_factory=CallTracker)
    client: Link = field(default_factory=Link)
    commands: FakePbx = field(default_factory=FakePbx)


def follow(node: Node, linkedid: str, channel: str) -> None:
    run(f"0 Newchannel {linkedid} {linkedid} Channel={channel}", node.tracker)


async def test_a_command_goes_to_the_node_that_follows_the_channel() -> None:
    na, nb = Node("na"), Node("nb")
    follow(nb, "nb-1.1", "PJSIP/carrier-00000001")
    pbx = NodesPbx([na, nb])
    await pbx.hangup("PJSIP/carrier-00000001")
    assert (na.commands.names(), nb.commands.names()) == ([], ["hangup"])


async def test_a_name_both_nodes_have_is_not_guessed_but_the_calls_node_is_used() -> None:
    na, nb = Node("na"), Node("nb")
    same = "Local/95777@hotline-inbound-00000003;2"
    follow(na, "na-1.1", same)
    follow(nb, "nb-1.1", same)
    pbx = NodesPbx([na, nb])
    assert pbx.node_of_channel(same) is None
    await on_node(pbx, "nb").set_var(same, "HOTLINE_AGENT_ENDPOINT", "PJSIP/1001@hotline-node-na")
    assert (na.commands.names(), nb.commands.names()) == ([], ["set_var"])
    assert on_node(pbx, None) is pbx
    assert on_node(pbx, "nc") is pbx  # not configured: the whole center's port
    assert on_node(na.commands, "nb") is na.commands  # one node: nothing to pick


async def test_an_unknown_channel_is_tried_on_each_reachable_node_until_one_has_it() -> None:
    na, nb, nc = Node("na"), Node("nb"), Node("nc", client=Link(ready=False))
    na.commands.gone_channels.add("PJSIP/1011-00000009")
    pbx = NodesPbx([na, nb, nc])
    await pbx.redirect("PJSIP/1011-00000009", context="hotline-connect", exten="1011")
    assert nb.commands.names() == ["redirect"]
    assert nc.commands.names() == []
    nb.commands.gone_channels.add("PJSIP/1011-00000009")
    with pytest.raises(ChannelNotFound):
        await pbx.hangup("PJSIP/1011-00000009")


async def test_listings_cover_the_reachable_nodes_and_name_them() -> None:
    na, nb = Node("na"), Node("nb", client=Link(ready=False))
    na.commands.live = [channel("na-1.1")]
    nb.commands.live = [channel("nb-1.1")]
    pbx = NodesPbx([na, nb])
    assert [c.uniqueid for c in await pbx.channels()] == ["na-1.1"]
    assert pbx.reachable() == {"na"}
    na.client.ready = False
    with pytest.raises(PbxUnavailable):
        await pbx.channels()


async def test_globals_reach_every_node_and_originate_the_first_reachable() -> None:
    na, nb = Node("na", client=Link(ready=False)), Node("nb")
    pbx = NodesPbx([na, nb])
    await pbx.set_var("", "HOTLINE_EWT_general", "60")
    await pbx.originate("Local/1@x", purpose=OriginatePurpose.FOLLOW_UP, context="c")
    assert (na.commands.names(), nb.commands.names()) == ([], ["set_var", "originate"])


def channel(uniqueid: str) -> ChannelInfo:
    return ChannelInfo(uniqueid, uniqueid, f"PJSIP/x-{uniqueid}", "", "", "Up", "", "", "0")
