"""The desk's call controls (issue 14) as real Asterisk 22 recorded them
(scripts/record_callcontrol_traces.py: the real Runtime, the controls driven over HTTP),
replayed through the bridge's parse -> track path with the original TCP read sizes.

Each trace ends in exactly one call record (the conference's hlcf-... leg and the
consultation's dial are legs of the call, never calls of their own) that says what
happened: transfers, agents in order, talk time per agent, hold time, disposition, and
the domain events in the order the desk's controls caused them. Every scenario talks
about 1.5 s before and after each control (the recorder's pauses), hence the bounds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cti.ami.frames import FrameParser
from cti.ami.trace import read_trace
from cti.tracking.tracker import CallTracker, DomainEvent

TRACES = Path(__file__).resolve().parents[2] / "fixtures" / "ami"
CALLER = "13700000001"
SCENARIOS = (
    "hold_resume",
    "transfer_agent",
    "transfer_queue",
    "consult_complete",
    "consult_cancel",
    "conference",
    "click_to_dial",
)
# What an inbound call does before its agent answers (the IVR's steps are left out).
INBOUND = ["call.started", "call.ivr_completed", "call.queued", "call.offered", "call.answered"]
SEGMENT = (1.0, 2.5)  # one stretch of talk between two controls: about 1.5 s


def replay(name: str, *, filtered: bool = True) -> tuple[list[DomainEvent], CallTracker]:
    tracker = CallTracker()
    parser = FrameParser(tracker.wanted_events if filtered else None)
    events: list[DomainEvent] = []
    for chunk in read_trace(TRACES / f"{name}.trace"):
        for frame in parser.feed(chunk):
            events += tracker.handle(frame)
    assert parser.garbage == 0
    return events, tracker


def one_call(name: str, *, filtered: bool = True) -> tuple[dict[str, Any], list[str]]:
    """The one call of a trace, checked to be the only one: its final snapshot and its
    domain event types in order (without the IVR's steps)."""
    events, tracker = replay(name, filtered=filtered)
    ids = {e["call_id"] for e in events}
    assert len(ids) == 1, f"{name}: {len(ids)} calls: {sorted(ids)}"
    (call_id,) = ids
    assert not call_id.startswith("hlcf-")
    ended = [e for e in events if e["type"] == "call.ended"]
    assert len(ended) == 1, f"{name}: {len(ended)} call.ended"
    assert events[-1] is ended[0], f"{name}: events after the end"
    assert tracker.calls == {}, f"{name}: still open: {list(tracker.calls)}"
    assert tracker.leg_index == {}
    types = [e["type"] for e in events if e["type"] != "call.ivr_step"]
    return ended[0]["call"], types


def within(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("filtered", [True, False])
def test_given_a_call_control_trace_then_one_record_whatever_the_parser_skips(
    name: str, filtered: bool
) -> None:
    call, _ = one_call(name, filtered=filtered)
    assert call == one_call(name)[0]
    assert call["disposition"] == "answered"
    assert call["resynced"] is False


@pytest.mark.parametrize("name", SCENARIOS)
def test_given_a_call_control_trace_then_seq_strictly_increases(name: str) -> None:
    events, _ = replay(name)
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1))


@pytest.mark.parametrize("name", SCENARIOS)
def test_given_a_call_control_trace_then_talk_per_agent_adds_up(name: str) -> None:
    call, _ = one_call(name)
    assert set(call["agent_talk"]) == set(call["agents"])
    assert all(s > 0 for s in call["agent_talk"].values())
    total = sum(call["agent_talk"].values())
    if call["conference"]:
        # Two agents on the line at once: each one's time counts, the call's once.
        assert max(call["agent_talk"].values()) <= call["talk_seconds"] < total
    else:
        assert call["talk_seconds"] == pytest.approx(total, abs=0.01)
    assert call["ended_at"] - call["started_at"] >= call["talk_seconds"] + call["hold_seconds"]


def test_given_hold_and_resume_then_hold_time_and_one_agent() -> None:
    call, types = one_call("hold_resume")
    assert types == [*INBOUND, "call.held", "call.resumed", "call.ended"]
    assert call["caller_number"] == CALLER
    assert call["direction"] == "in"
    assert call["agents"] == ["1001"]
    assert call["transfers"] == 0
    assert within(call["hold_seconds"], (2.0, 3.5))  # held about 2.5 s
    assert within(call["agent_talk"]["1001"], (2 * SEGMENT[0], 2 * SEGMENT[1]))


def test_given_hold_and_resume_then_the_hold_events_carry_the_snapshot() -> None:
    events, _ = replay("hold_resume")
    held = next(e for e in events if e["type"] == "call.held")
    resumed = next(e for e in events if e["type"] == "call.resumed")
    assert held["call"]["hold_seconds"] == 0  # still on hold: counted when it ends
    assert within(resumed["at"] - held["at"], (2.0, 3.5))
    assert resumed["call"]["hold_seconds"] == pytest.approx(resumed["at"] - held["at"], abs=0.01)
    assert within(held["call"]["agent_talk"]["1001"], SEGMENT)


def test_given_blind_transfer_to_an_agent_then_two_agents_one_transfer() -> None:
    call, types = one_call("transfer_agent")
    assert types == [
        *INBOUND,
        "call.transferred",
        "call.queued",  # through its holding queue, offered to 1002 with a screen-pop
        "call.offered",
        "call.answered",
        "call.ended",
    ]
    events, _ = replay("transfer_agent")
    (transferred,) = [e for e in events if e["type"] == "call.transferred"]
    assert (transferred["transfer_kind"], transferred["to_agent"]) == ("agent", "1002")
    assert call["agents"] == ["1001", "1002"]
    assert call["agent"] == "1001"
    assert call["transfers"] == 1
    assert call["offers"] == 2
    assert call["hold_seconds"] == 0
    assert within(call["agent_talk"]["1001"], SEGMENT)
    assert within(call["agent_talk"]["1002"], SEGMENT)


def test_given_blind_transfer_to_a_queue_then_it_waits_there_and_the_next_agent_answers() -> None:
    call, types = one_call("transfer_queue")
    assert types == [
        *INBOUND,
        "call.transferred",
        "call.queued",
        "call.offered",
        "call.answered",
        "call.ended",
    ]
    events, _ = replay("transfer_queue")
    (transferred,) = [e for e in events if e["type"] == "call.transferred"]
    assert (transferred["transfer_kind"], transferred["to_agent"]) == ("queue", "hold-complaint")
    queued = [e["queue"] for e in events if e["type"] == "call.queued"]
    assert queued == ["hold-business", "hold-complaint"]
    assert call["skill"] == "business"  # the skill the IVR gave; the queue is on the event
    assert call["agents"] == ["1001", "1002"]
    assert call["transfers"] == 1
    assert call["offers"] == 2
    assert within(call["agent_talk"]["1001"], SEGMENT)
    assert within(call["agent_talk"]["1002"], SEGMENT)


def test_given_attended_transfer_completed_then_the_consulted_agent_has_the_call() -> None:
    call, types = one_call("consult_complete")
    assert types == [
        *INBOUND,
        "call.held",
        "call.consulting",
        "call.transferred",
        "call.resumed",
        "call.ended",
    ]
    events, _ = replay("consult_complete")
    (consulting,) = [e for e in events if e["type"] == "call.consulting"]
    assert (consulting["state"], consulting["target"]) == ("dialling", "1002")
    (transferred,) = [e for e in events if e["type"] == "call.transferred"]
    assert (transferred["transfer_kind"], transferred["to_agent"]) == ("attended", "1002")
    assert call["agents"] == ["1001", "1002"]
    assert call["transfers"] == 1
    assert call["offers"] == 1  # the consultation's dial is no offer
    assert call["no_answers"] == 0
    # On hold from the consult until the completion: the 1.5 s the agents talked.
    assert within(call["hold_seconds"], SEGMENT)
    # 1001's talk with the caller, not its talk with 1002 while the caller was held.
    assert within(call["agent_talk"]["1001"], SEGMENT)
    assert within(call["agent_talk"]["1002"], SEGMENT)


def test_given_attended_transfer_cancelled_then_the_first_agent_keeps_the_call() -> None:
    call, types = one_call("consult_cancel")
    assert types == [
        *INBOUND,
        "call.held",
        "call.consulting",
        "call.consulting",
        "call.resumed",
        "call.ended",
    ]
    events, _ = replay("consult_cancel")
    states = [(e["state"], e["status"]) for e in events if e["type"] == "call.consulting"]
    assert states == [("dialling", ""), ("ended", "ANSWER")]
    assert call["agents"] == ["1001"]
    assert call["transfers"] == 0
    assert call["offers"] == 1
    assert within(call["hold_seconds"], SEGMENT)
    assert within(call["agent_talk"]["1001"], (2 * SEGMENT[0], 2 * SEGMENT[1]))


def test_given_a_conference_where_the_first_agent_leaves_then_one_record_two_agents() -> None:
    call, types = one_call("conference")
    assert types == [*INBOUND, "call.conference", "call.conference", "call.ended"]
    events, _ = replay("conference")
    states = [(e["state"], e.get("agent")) for e in events if e["type"] == "call.conference"]
    assert states == [("started", None), ("joined", "1003")]
    assert call["conference"] is True
    assert call["agents"] == ["1001", "1003"]
    assert call["agent"] == "1001"
    assert call["transfers"] == 0
    assert call["hold_seconds"] == 0
    # 1001: 1.5 s alone with the caller, then 1.5 s in the conference; 1003: 1.5 s with
    # both, then 1.5 s alone with the caller after 1001 left.
    assert within(call["agent_talk"]["1001"], (2 * SEGMENT[0], 2 * SEGMENT[1]))
    assert within(call["agent_talk"]["1003"], (2 * SEGMENT[0], 2 * SEGMENT[1]))
    assert within(call["talk_seconds"], (3 * SEGMENT[0], 3 * SEGMENT[1]))


def test_given_a_conference_then_the_joining_leg_never_starts_a_call() -> None:
    events, tracker = replay("conference")
    joining = {
        f["Uniqueid"]
        for chunk in read_trace(TRACES / "conference.trace")
        for f in FrameParser().feed(chunk)
        if f.get("Event") == "Newchannel" and f.get("Uniqueid", "").startswith("hlcf-")
    }
    assert joining, "the trace has the third agent's hlcf- leg"
    assert not any(e["call_id"] in joining for e in events)
    assert all(tracker.knows(uid) for uid in joining if "-" not in uid.removeprefix("hlcf-"))


def test_given_click_to_dial_then_one_outbound_record_of_the_customer() -> None:
    call, types = one_call("click_to_dial")
    assert types == ["call.started", "call.answered", "call.ended"]
    assert call["call_id"].startswith("hlob-")
    assert call["direction"] == "out"
    assert call["caller_number"] == "13900000009"
    assert call["dialed_number"] == "13900000009"
    assert call["agents"] == ["1001"]
    assert call["agent"] == "1001"
    assert call["offers"] == 0
    assert call["transfers"] == 0
    assert call["queued_at"] is None
    assert within(call["agent_talk"]["1001"], (1.5, 3.0))  # about 2 s
