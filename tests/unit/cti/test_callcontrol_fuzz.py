"""The call-control UserEvents (HotlineHold, HotlineTransfer, HotlineConsult,
HotlineConference, HotlineOutbound) with missing, empty or odd headers, dropped into a
real recorded call (tests/fixtures/ami/, scripts/record_callcontrol_traces.py) at any
point: the tracker never raises, never invents a second call, and goes on following the
real call to a single end. Property-based (hypothesis, derandomized: the same examples
every run)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cti.ami.frames import Frame, FrameParser
from cti.ami.trace import read_trace
from cti.events import USER_CONFERENCE, USER_CONSULT, USER_HOLD, USER_OUTBOUND, USER_TRANSFER
from cti.tracking.tracker import CallTracker, DomainEvent

TRACES = Path(__file__).resolve().parents[2] / "fixtures" / "ami"
CONTROLS = [USER_HOLD, USER_TRANSFER, USER_CONSULT, USER_CONFERENCE, USER_OUTBOUND]
HEADERS = [
    "Uniqueid",
    "Linkedid",
    "Channel",
    "Timestamp",
    "State",
    "Peer",
    "Transfer",
    "Kind",
    "Target",
    "Status",
    "Role",
    "Call",
    "Room",
    "Number",
    "CustomerId",
    "Agent",
    "CallerIDNum",
]
ODD = [
    "",
    " ",
    "<unknown>",
    "held",
    "resumed",
    "lost",
    "attended",
    "requeue",
    "queue",
    "agent",
    "caller",
    "dialling",
    "ended",
    "ANSWER",
    "nan",
    "inf",
    "-1",
    "1e309",
    "0",
    "Local/",
    "PJSIP/",
    ";1",
    "hlcf-",
    "hlob-x",
    "Local/1002@hotline-test-agent-00000008;1",
    "PJSIP/hotline-node-b-0000002a",
    "电话\x00\r",
    "a\nb",
    "9" * 300,
]


@cache
def trace_frames(name: str) -> tuple[Frame, ...]:
    tracker = CallTracker()
    parser = FrameParser(tracker.wanted_events)
    return tuple(f for chunk in read_trace(TRACES / f"{name}.trace") for f in parser.feed(chunk))


@cache
def known_ids(name: str) -> tuple[str, ...]:
    """The call's real ids and channel names, so fuzzed frames hit its live legs."""
    ids = {
        f.get(k, "")
        for f in trace_frames(name)
        for k in ("Uniqueid", "Linkedid", "Channel", "DestUniqueid")
    }
    return tuple(sorted(i for i in ids if i))


def control_frame(name: str) -> st.SearchStrategy[Frame]:
    value = st.one_of(st.sampled_from(ODD), st.sampled_from(known_ids(name)), st.text(max_size=12))
    headers = st.dictionaries(st.sampled_from(HEADERS), value, max_size=len(HEADERS))
    event = st.one_of(st.sampled_from(CONTROLS), st.text(max_size=8))
    return st.builds(lambda e, h: {"Event": "UserEvent", "UserEvent": e, **h}, event, headers)


def feed(tracker: CallTracker, frames: list[Frame]) -> list[DomainEvent]:
    out: list[DomainEvent] = []
    for frame in frames:
        out += tracker.handle(frame)
    return out


@pytest.mark.parametrize(
    "name",
    ["hold_resume", "consult_complete", "consult_cancel", "conference", "click_to_dial"],
)
def test_given_odd_control_user_events_anywhere_in_a_real_call_then_never_a_crash(
    name: str,
) -> None:
    real = list(trace_frames(name))

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        cut=st.integers(min_value=0, max_value=len(real)),
        noise=st.lists(control_frame(name), min_size=1, max_size=25),
    )
    def check(cut: int, noise: list[Frame]) -> None:
        tracker = CallTracker()
        events = feed(tracker, real[:cut])
        events += feed(tracker, noise)  # must not raise
        events += feed(tracker, real[cut:])
        call_ids = {e["call_id"] for e in events}
        assert len(call_ids) <= 1, f"a second call from odd control frames: {call_ids}"
        ended = [e for e in events if e["type"] == "call.ended"]
        assert len(ended) <= 1
        for e in events:
            assert {"type", "call_id", "seq", "at", "call"} <= set(e)

    check()


@pytest.mark.parametrize("control", CONTROLS)
def test_given_a_control_user_event_with_no_headers_at_all_then_nothing_happens(
    control: str,
) -> None:
    tracker = CallTracker()
    assert tracker.handle({"Event": "UserEvent", "UserEvent": control}) == []
    assert tracker.handle({"Event": "UserEvent", "UserEvent": control, "Call": ""}) == []
    assert tracker.calls == {}


@pytest.mark.parametrize("control", CONTROLS)
def test_given_a_control_user_event_for_an_unknown_call_then_nothing_happens(
    control: str,
) -> None:
    tracker = CallTracker()
    frame: Frame = {
        "Event": "UserEvent",
        "UserEvent": control,
        "Uniqueid": "1796363900.1",
        "Linkedid": "1796363900.1",
        "Call": "1796363900.1",
        "Role": "agent",
        "State": "held",
        "Kind": "agent",
    }
    assert tracker.handle(frame) == []
    assert tracker.calls == {}
