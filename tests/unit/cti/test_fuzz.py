"""10,000 garbled AMI frames mixed into a real recorded call: nothing crashes, the real
call is tracked exactly as without the noise."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from cti.ami.frames import FrameParser
from cti.ami.trace import read_trace
from cti.tracking.tracker import CallTracker
from tests.unit.cti.fuzz import fuzz_frames

TRACES = Path(__file__).resolve().parents[2] / "fixtures" / "ami"
STABLE = (
    "disposition",
    "agent",
    "agents",
    "caller_name",
    "caller_number",
    "skill",
    "ivr_path",
    "transfers",
    "wait_seconds",
    "talk_seconds",
    "started_at",
    "ended_at",
)


def _ended(data: bytes, sizes: list[int]) -> tuple[list[dict[str, Any]], CallTracker, FrameParser]:
    tracker = CallTracker()
    parser = FrameParser(tracker.wanted_events)
    ended = []
    pos, i = 0, 0
    while pos < len(data):
        chunk = data[pos : pos + sizes[i % len(sizes)]]
        pos += len(chunk)
        i += 1
        for frame in parser.feed(chunk):
            for event in tracker.handle(frame):
                if event["type"] == "call.ended":
                    ended.append(event["call"])
    return ended, tracker, parser


def test_given_10000_garbled_frames_in_a_real_call_then_the_call_is_tracked_unchanged() -> None:
    reads = read_trace(TRACES / "transferred.trace")
    clean = b"".join(reads)
    (expected,), _, _ = _ended(clean, [len(r) for r in reads])

    # Split the real stream into frames and sprinkle the garbage between them.
    head, _, rest = clean.partition(b"\r\n")
    real = [f + b"\r\n\r\n" for f in rest.split(b"\r\n\r\n") if f]
    noise = fuzz_frames(10_000)
    rnd = random.Random(11)
    mixed: list[bytes] = [head + b"\r\n"]
    for frame in real:
        mixed += [noise.pop() for _ in range(min(len(noise), rnd.randrange(0, 60)))]
        mixed.append(frame)
    mixed += noise
    sizes = [rnd.randrange(1, 4096) for _ in range(997)]

    got, tracker, parser = _ended(b"".join(mixed), sizes)
    real_id = expected["call_id"]
    real_calls = [c for c in got if c["call_id"] == real_id]
    assert len(real_calls) == 1
    assert {k: real_calls[0][k] for k in STABLE} == {k: expected[k] for k in STABLE}
    assert parser.garbage > 100  # the noise was seen and dropped, not silently absorbed
    # Nothing of the real call lingers, and no garbage frame adopted one of its legs.
    assert real_id not in tracker.calls
    assert not any(uid.startswith("t") for uid in tracker.leg_index)
