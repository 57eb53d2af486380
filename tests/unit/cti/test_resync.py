"""After a reconnect, the snapshot closes what ended and adopts what began meanwhile."""

from __future__ import annotations

from cti.tracking.resync import LINK_LOST, parse_duration, resync
from tests.unit.cti.scenario import T0, ended, run


def test_parse_duration() -> None:
    assert parse_duration("01:02:03") == 3723
    assert parse_duration("00:00:07") == 7
    assert parse_duration("garbage") == 0
    assert parse_duration(None) == 0


def test_given_calls_ended_while_link_down_then_they_are_closed_once() -> None:
    tracker, _ = run(
        """
        0 Newchannel c1 c1 CallerIDNum=1380 Context=hotline-inbound Exten=95777
        2 QueueCallerJoin c1 c1 Queue=hold-billing Position=1
        0 Newchannel c2 c2 CallerIDNum=1390 Context=hotline-inbound Exten=95777
        """
    )
    channels = [
        {"Uniqueid": "c2", "Linkedid": "c2", "Channel": "PJSIP/t-2", "Duration": "00:00:30"}
    ]
    events = resync(tracker, channels, [], at=T0 + 30)
    (call,) = ended(events)
    assert call["call_id"] == "c1"
    assert call["disposition"] == "abandoned_queue"
    assert call["hangup_cause_txt"] == LINK_LOST
    assert call["resynced"] is True
    assert set(tracker.calls) == {"c2"}
    assert resync(tracker, channels, [], at=T0 + 31) == []  # idempotent


def test_given_calls_started_while_link_down_then_they_are_adopted_with_state() -> None:
    tracker, _ = run("")
    now = T0 + 100
    channels = [
        {
            "Uniqueid": "d1",
            "Linkedid": "d1",
            "Channel": "PJSIP/trunk-9",
            "CallerIDNum": "13700000000",
            "Context": "hotline-inbound",
            "Extension": "95777",
            "Duration": "00:01:00",
            "BridgeId": "b1",
        },
        {
            "Uniqueid": "d2",
            "Linkedid": "d1",
            "Channel": "PJSIP/1003-0000000c",
            "Duration": "00:00:20",
            "BridgeId": "b1",
        },
        {
            "Uniqueid": "e1",
            "Linkedid": "e1",
            "Channel": "PJSIP/trunk-10",
            "CallerIDNum": "13600000000",
            "Duration": "00:00:40",
        },
    ]
    entries = [{"Uniqueid": "e1", "Queue": "hold-repair", "Position": "1", "Wait": "25"}]
    events = resync(tracker, channels, entries, at=now)
    d1, e1 = tracker.calls["d1"], tracker.calls["e1"]
    assert d1.started_at == now - 60
    assert d1.dialed_number == "95777"
    assert d1.agent == "1003"
    assert d1.answered_at == now - 20
    assert e1.queued_at == now - 25
    assert e1.skill == "repair"
    assert {e["type"] for e in events} >= {"call.started", "call.answered", "call.queued"}


def test_given_the_ivr_s_channel_variables_then_a_rebuilt_call_knows_its_ivr_result() -> None:
    from cti.tracking.resync import IVR_VARIABLES, parse_ivr_variables

    assert IVR_VARIABLES.startswith("EVAL(${HOTLINE_SKILL}|")
    found = parse_ivr_variables("repair|50|4711|A|zh")
    assert parse_ivr_variables("||||") == {}
    assert parse_ivr_variables("not what was asked") == {}
    tracker, _ = run("")
    channels = [
        {
            "Uniqueid": "f1",
            "Linkedid": "f1",
            "Channel": "Local/95777@hotline-inbound-1;1",
            "CallerIDNum": "13500000000",
            "Duration": "00:00:50",
        },
        {
            "Uniqueid": "f1-2",
            "Linkedid": "f1",
            "Channel": "Local/95777@hotline-inbound-1;2",
            "Duration": "00:00:50",
        },
    ]
    events = resync(tracker, channels, [], at=T0 + 60, variables={"f1-2": found})
    call = tracker.calls["f1"]
    assert (call.skill, call.priority, call.customer_id, call.tier, call.language) == (
        "repair",
        50,
        "4711",
        "A",
        "zh",
    )
    assert call.caller_number == "13500000000"
    assert events
    assert all(e["call"]["resynced"] for e in events)


def _bridged_pair(order: list[int]) -> list[dict[str, str]]:
    """A caller and the agent it talks to, answered in the same second."""
    legs = [
        {
            "Uniqueid": "1700000000.11",
            "Linkedid": "1700000000.11",
            "Channel": "PJSIP/trunk-00000011",
            "CallerIDNum": "13800000011",
            "Context": "hotline-inbound",
            "Extension": "95777",
            "Duration": "00:00:05",
            "BridgeId": "b7",
        },
        {
            "Uniqueid": "1700000000.12",
            "Linkedid": "1700000000.11",
            "Channel": "PJSIP/1001-00000012",
            "Duration": "00:00:05",
            "BridgeId": "b7",
        },
    ]
    return [legs[i] for i in order]


def test_given_caller_and_agent_of_the_same_second_in_any_order_then_the_agent_is_restored() -> (
    None
):
    for order in ([0, 1], [1, 0]):
        tracker, _ = run("")
        events = resync(tracker, _bridged_pair(order), [], at=T0 + 100)
        call = tracker.calls["1700000000.11"]
        assert call.caller_number == "13800000011", order
        assert call.legs["1700000000.11"].role == "caller", order
        assert call.agent == "1001", order
        assert call.answered_at == T0 + 95, order
        assert [e["type"] for e in events].count("call.answered") == 1, order


def test_given_a_caller_carried_by_a_local_channel_then_its_bridged_agent_is_restored() -> None:
    """The caller's root leg (Local;1) is not in the bridge; its Local;2 half is, with
    the agent's channel that Dial() created: the agent is still found."""
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        legs = [
            {
                "Uniqueid": "tq1",
                "Linkedid": "tq1",
                "Channel": "Local/95777@hotline-inbound-00000000;1",
                "CallerIDNum": "13700000001",
                "Duration": "00:00:20",
            },
            {
                "Uniqueid": "tq1-2",
                "Linkedid": "tq1",
                "Channel": "Local/95777@hotline-inbound-00000000;2",
                "Duration": "00:00:20",
                "BridgeId": "b9",
            },
            {
                "Uniqueid": "1700000000.40",
                "Linkedid": "tq1",
                "Channel": "PJSIP/1001-00000040",
                "Duration": "00:00:12",
                "BridgeId": "b9",
            },
        ]
        tracker, _ = run("")
        events = resync(tracker, [legs[i] for i in order], [], at=T0 + 100)
        call = tracker.calls["tq1"]
        assert (call.agent, call.answered_at) == ("1001", T0 + 88), order
        assert [e["type"] for e in events].count("call.answered") == 1, order
