"""Recorded real Asterisk 22 traffic (scripts/record_ami_traces.py) replayed through the
bridge's parse -> track path, with the original TCP read sizes: each scenario ends in
exactly one call record with the right disposition and durations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cti.ami.frames import FrameParser
from cti.ami.trace import read_trace
from cti.tracking.tracker import CallTracker, DomainEvent

TRACES = Path(__file__).resolve().parents[2] / "fixtures" / "ami"


def replay(name: str, *, filtered: bool = True) -> tuple[list[DomainEvent], CallTracker]:
    tracker = CallTracker()
    parser = FrameParser(tracker.wanted_events if filtered else None)
    events: list[DomainEvent] = []
    for chunk in read_trace(TRACES / f"{name}.trace"):
        for frame in parser.feed(chunk):
            events += tracker.handle(frame)
    assert parser.garbage == 0
    return events, tracker


def ended(events: list[DomainEvent]) -> list[dict[str, Any]]:
    return [e["call"] for e in events if e["type"] == "call.ended"]


@pytest.mark.parametrize("filtered", [True, False])
def test_ivr_hangup(filtered: bool) -> None:
    events, tracker = replay("ivr_hangup", filtered=filtered)
    (call,) = ended(events)
    assert call["disposition"] == "abandoned_ivr"
    assert call["ivr_path"][:1] == ["main"]
    assert call["caller_name"] == "王芳"
    assert call["queued_at"] is None
    assert 2 <= call["ended_at"] - call["started_at"] <= 4
    assert tracker.calls == {}


def test_queue_abandon() -> None:
    events, _ = replay("queue_abandon")
    (call,) = ended(events)
    assert call["disposition"] == "abandoned_queue"
    assert (call["skill"], call["priority"], call["tier"]) == ("billing", 30, "A")
    assert 2 <= call["wait_seconds"] <= 4.5


def test_answered() -> None:
    events, _ = replay("answered")
    (call,) = ended(events)
    assert call["disposition"] == "answered"
    assert call["agent"] == "1001"
    assert call["agents"] == ["1001"]
    assert call["caller_name"] == "张伟（燃气）"
    assert call["transfers"] == 0
    assert 0.5 <= call["wait_seconds"] <= 2.5
    assert call["talk_seconds"] > 3
    assert [e["type"] for e in events].count("call.answered") == 1


def test_transferred() -> None:
    events, _ = replay("transferred")
    (call,) = ended(events)
    assert call["disposition"] == "answered"
    assert call["agents"] == ["1001", "1002"]
    assert call["transfers"] == 1
    assert call["talk_seconds"] > 5


def test_same_number_twice() -> None:
    events, _ = replay("same_number_twice")
    calls = ended(events)
    assert len(calls) == 2
    assert len({c["call_id"] for c in calls}) == 2
    assert all(c["caller_number"] == "13900000000" for c in calls)
    assert all(c["disposition"] == "abandoned_queue" for c in calls)


def test_seq_strictly_increases_per_call() -> None:
    for name in ("answered", "transferred", "same_number_twice"):
        events, _ = replay(name)
        last: dict[str, int] = {}
        for e in events:
            assert e["seq"] > last.get(e["call_id"], 0)
            last[e["call_id"]] = e["seq"]
