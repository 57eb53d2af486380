"""Call scenarios -> exactly one ended call each, with the right disposition and times."""

from __future__ import annotations

import pytest

from cti.tracking.tracker import CallTracker
from tests.unit.cti.scenario import T0, ended, frames, run

INBOUND = """
0   Newchannel  c1  c1  Channel=PJSIP/trunk-01 CallerIDNum=13800138000 CallerIDName=张伟 Context=hotline-inbound Exten=95777
1   UserEvent   c1  c1  UserEvent=HotlineIvrStep Node=main Input=1
"""


def test_given_caller_hangs_up_in_ivr_then_abandoned_ivr_with_path() -> None:
    _, events = run(INBOUND + "4 Hangup c1 c1 Cause=16 Cause-txt=Normal")
    (call,) = ended(events)
    assert call["disposition"] == "abandoned_ivr"
    assert call["ivr_path"] == ["main"]
    assert call["caller_name"] == "张伟"
    assert call["dialed_number"] == "95777"
    assert call["ended_at"] == T0 + 4
    assert [e["type"] for e in events] == ["call.started", "call.ivr_step", "call.ended"]
    assert [e["seq"] for e in events] == [1, 2, 3]


def test_given_caller_abandons_in_queue_then_abandoned_queue_with_wait() -> None:
    _, events = run(
        INBOUND
        + """
        3  UserEvent        c1 c1 UserEvent=HotlineIvrResult Outcome=queue Skill=billing CallPriority=30 CustomerId=42 Tier=A CallLanguage=zh
        3  QueueCallerJoin  c1 c1 Queue=hold-billing Position=1
        20 QueueCallerAbandon c1 c1 Queue=hold-billing
        20 Hangup c1 c1 Cause=16
        """
    )
    (call,) = ended(events)
    assert call["disposition"] == "abandoned_queue"
    assert call["wait_seconds"] == 17
    assert call["skill"] == "billing"
    assert (call["priority"], call["tier"], call["customer_id"]) == (30, "A", "42")


ANSWERED = (
    INBOUND
    + """
    3  UserEvent       c1 c1 UserEvent=HotlineIvrResult Outcome=queue Skill=billing CallPriority=10
    3  QueueCallerJoin c1 c1 Queue=hold-billing Position=1
    8  Newchannel      a1 c1 Channel=PJSIP/1001-00000001
    8  DialBegin       c1 c1 DestUniqueid=a1 DestLinkedid=c1 DestChannel=PJSIP/1001-00000001
    10 DialEnd         c1 c1 DestUniqueid=a1 DestLinkedid=c1 DestChannel=PJSIP/1001-00000001 DialStatus=ANSWER
    """
)


def test_given_agent_answers_and_completes_then_answered_with_talk_and_hold() -> None:
    _, events = run(
        ANSWERED
        + """
        30 Hold   c1 c1
        40 Unhold c1 c1
        70 Hangup a1 c1 Cause=16
        70 Hangup c1 c1 Cause=16
        """
    )
    (call,) = ended(events)
    assert call["disposition"] == "answered"
    assert call["agent"] == "1001"
    assert call["wait_seconds"] == 7  # queued at 3, answered at 10
    assert call["hold_seconds"] == 10
    assert call["talk_seconds"] == 50  # 10..70 minus 10 s on hold
    assert call["offered_at"] == T0 + 8
    kinds = [e["type"] for e in events]
    assert kinds.count("call.answered") == 1
    assert "call.held" in kinds
    assert "call.resumed" in kinds


def test_given_transfer_to_second_agent_then_one_record_two_agents() -> None:
    _, events = run(
        ANSWERED
        + """
        40 Hangup      a1 c1 Cause=16
        40 Newchannel  a2 c1 Channel=Local/1002@hotline-test-agent-00000004;1
        40 DialBegin   c1 c1 DestUniqueid=a2 DestChannel=Local/1002@hotline-test-agent-00000004;1
        42 DialEnd     c1 c1 DestUniqueid=a2 DestChannel=Local/1002@hotline-test-agent-00000004;1 DialStatus=ANSWER
        60 Hangup      c1 c1 Cause=16
        60 Hangup      a2 c1 Cause=16
        """
    )
    (call,) = ended(events)
    assert call["agents"] == ["1001", "1002"]
    assert call["agent"] == "1001"
    assert call["transfers"] == 1
    assert call["talk_seconds"] == 30 + 18
    assert call["disposition"] == "answered"


def test_given_blind_transfer_event_then_counted_once() -> None:
    _, events = run(
        ANSWERED
        + """
        30 BlindTransfer - - TransfererUniqueid=a1 TransfereeUniqueid=c1 Extension=1002 Result=Success
        30 Hangup      a1 c1
        31 Newchannel  a2 c1 Channel=PJSIP/1002-00000009
        31 DialBegin   c1 c1 DestUniqueid=a2 DestChannel=PJSIP/1002-00000009
        33 DialEnd     c1 c1 DestUniqueid=a2 DestChannel=PJSIP/1002-00000009 DialStatus=ANSWER
        50 Hangup      a2 c1
        50 Hangup      c1 c1
        """
    )
    (call,) = ended(events)
    assert call["transfers"] == 1
    assert call["agents"] == ["1001", "1002"]


def test_given_agent_no_answer_then_counted_and_call_still_waits() -> None:
    tracker, events = run(
        INBOUND
        + """
        3 QueueCallerJoin c1 c1 Queue=hold-general Position=1
        5 Newchannel a1 c1 Channel=PJSIP/1001-00000002
        5 DialBegin c1 c1 DestUniqueid=a1 DestChannel=PJSIP/1001-00000002
        20 DialEnd c1 c1 DestUniqueid=a1 DestChannel=PJSIP/1001-00000002 DialStatus=NOANSWER
        20 Hangup a1 c1
        """
    )
    assert [e["type"] for e in events][-1] == "call.agent_no_answer"
    assert "c1" in tracker.calls
    assert tracker.calls["c1"].no_answers == 1


def test_given_two_simultaneous_calls_from_same_number_then_two_records() -> None:
    _, events = run(
        """
        0 Newchannel x1 x1 CallerIDNum=13900000000 Context=hotline-inbound Exten=95777
        0 Newchannel y1 y1 CallerIDNum=13900000000 Context=hotline-inbound Exten=95777
        5 Hangup y1 y1
        9 Hangup x1 x1
        """
    )
    calls = ended(events)
    assert sorted(str(c["call_id"]) for c in calls) == ["x1", "y1"]
    assert all(c["caller_number"] == "13900000000" for c in calls)


@pytest.mark.parametrize(
    ("signal", "disposition"),
    [
        ("UserEvent=HotlineIvrResult Outcome=self_service", "self_service"),
        ("UserEvent=HotlineCallbackRequest Number=13800138000", "callback_requested"),
        ("UserEvent=HotlineFallback Reason=TIMEOUT", "overflowed"),
    ],
)
def test_given_ivr_or_dialplan_signal_then_disposition(signal: str, disposition: str) -> None:
    _, events = run(INBOUND + f"2 UserEvent c1 c1 {signal}\n5 Hangup c1 c1")
    assert ended(events)[0]["disposition"] == disposition


def test_given_duplicate_and_late_events_then_no_second_record() -> None:
    tracker, events = run(INBOUND + "4 Hangup c1 c1\n4 Hangup c1 c1\n5 Newchannel c1 c1")
    assert len(ended(events)) == 1
    assert tracker.calls == {}


def test_given_linkedid_changes_on_bridge_then_calls_merge_into_one() -> None:
    _, events = run(
        """
        0 Newchannel o1 o1 CallerIDNum=13800000001 Context=hotline-inbound Exten=95777
        1 Newchannel n1 n1 Channel=PJSIP/1001-0001
        2 Newchannel n2 n1 Channel=PJSIP/1002-0002
        3 Hold n1 o1
        9 Hangup n2 o1
        9 Hangup n1 o1
        9 Hangup o1 o1
        """
    )
    kinds = [e["type"] for e in events]
    assert "call.merged" in kinds
    assert [c["call_id"] for c in ended(events)] == ["o1"]


def test_given_garbage_frames_then_tracker_survives_and_other_calls_are_intact() -> None:
    tracker = CallTracker()
    good = frames(INBOUND)
    for junk in [
        {},
        {"Event": "Hangup"},
        {"Event": "Newchannel"},
        {"Event": "DialEnd", "Uniqueid": "c1"},
        {"Event": "UserEvent", "Uniqueid": "c1", "UserEvent": "HotlineIvrResult", "Priority": "x"},
        {"Event": "QueueCallerJoin", "Timestamp": "not-a-time", "Uniqueid": "zz"},
    ]:
        tracker.handle(good[0]) if not tracker.calls else None
        tracker.handle(junk)
    assert set(tracker.calls) == {"c1"}
    assert tracker.calls["c1"].priority is None
