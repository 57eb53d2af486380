"""Recording policy, paths and the channel MixMonitor goes on (pure)."""

from __future__ import annotations

import datetime as dt

from cti.commands import ChannelInfo
from kernel.config.care import RecordingSettings
from recordings.policy import asterisk_path, pick_channel, relative_path, should_record


def test_policy_per_mode() -> None:
    call = {"skill": "repair", "agent": "1003"}
    assert should_record(RecordingSettings(mode="all"), call)
    assert should_record(RecordingSettings(mode="queues", queues=["repair"]), call)
    assert not should_record(RecordingSettings(mode="queues", queues=["billing"]), call)
    assert should_record(RecordingSettings(mode="agents", agents=["1003"]), call)
    assert should_record(RecordingSettings(mode="agents", agents=["agent03"]), call, "agent03")
    assert not should_record(RecordingSettings(mode="agents", agents=["1004"]), call, "agent03")
    assert not should_record(RecordingSettings(mode="on_demand"), call)


def test_paths_are_dated_unique_and_safe() -> None:
    at = dt.datetime(2026, 11, 23, 1, 2, tzinfo=dt.UTC)
    assert str(relative_path("1763860000.42", at, "wav")) == "2026/11/23/1763860000.42.wav"
    assert str(relative_path("a/../b", at, "gsm", 2)) == "2026/11/23/a_.._b-2.gsm"
    settings = RecordingSettings(root="/var/rec", asterisk_root="/srv/rec")
    assert asterisk_path(settings, "2026/11/23/x.wav") == "/srv/rec/2026/11/23/x.wav"


def chan(uid: str, name: str, bridge: str, linkedid: str = "L1") -> ChannelInfo:
    return ChannelInfo(uid, linkedid, name, "ctx", "s", "Up", "", bridge, "0")


def test_the_callers_bridged_channel_is_recorded_not_the_agents() -> None:
    channels = [
        chan("L1", "Local/95777@hotline-inbound-0001;1", ""),  # test caller half: not bridged
        chan("L1-2", "Local/95777@hotline-inbound-0001;2", "B1"),
        chan("L1-3", "Local/1003@hotline-test-agent-0002;1", "B1"),
        chan("X", "PJSIP/1001-0001", "B9", linkedid="other"),
    ]
    picked = pick_channel(channels, "L1", "1003")
    assert picked is not None
    assert picked.uniqueid == "L1-2"
    assert pick_channel(channels[:1], "L1", "1003") is None  # bridge not up yet


def test_a_call_to_an_agent_on_another_node_records_the_callers_channel_not_the_trunk() -> None:
    channels = [
        chan("L1-2", "Local/95777@hotline-inbound-0001;2", "B1"),
        chan("A-1", "PJSIP/hotline-node-nb-00000004", "B1"),  # sorts first: not the caller
    ]
    picked = pick_channel(channels, "L1", "1011")
    assert picked is not None
    assert picked.uniqueid == "L1-2"
