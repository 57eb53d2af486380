"""Write call scenarios as small tables of AMI events, one per line:

    t   Event            Uniqueid  Linkedid  key=value ...

`t` is seconds since the start of the call (it becomes the frame's Timestamp)."""

from __future__ import annotations

import shlex

from cti.ami.frames import Frame
from cti.tracking.tracker import CallTracker, DomainEvent

T0 = 1_763_800_000.0


def frames(table: str) -> list[Frame]:
    out: list[Frame] = []
    for raw in table.strip().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        t, event, uniqueid, linkedid, *rest = shlex.split(line)
        frame: Frame = {"Event": event, "Timestamp": f"{T0 + float(t):.6f}"}
        if uniqueid != "-":
            frame["Uniqueid"] = uniqueid
        if linkedid != "-":
            frame["Linkedid"] = linkedid
        for item in rest:
            key, _, value = item.partition("=")
            frame[key] = value
        out.append(frame)
    return out


def run(table: str, tracker: CallTracker | None = None) -> tuple[CallTracker, list[DomainEvent]]:
    tracker = tracker or CallTracker()
    events: list[DomainEvent] = []
    for frame in frames(table):
        events += tracker.handle(frame)
    return tracker, events


def ended(events: list[DomainEvent]) -> list[dict[str, object]]:
    return [e["call"] for e in events if e["type"] == "call.ended"]
