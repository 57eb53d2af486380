"""A scripted day of mixed calls as AMI frames, for the real CallTracker.

Each call is a small AMI sequence shaped like the tracker scenario tables
(tests/unit/cti/test_tracker_scenarios.py): IVR, queue join, then answered (some with
hold), abandoned short or long, transferred to a second agent, or a callback request.
Calls overlap in time (one starts every `spacing` seconds); frames come back in time
order. `expected` says what each queue must count, by construction.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from cti.ami.frames import Frame

QUEUES = ("billing", "repair", "emergency")
KINDS = ("answered", "answered_hold", "abandon_short", "abandon_long", "transferred", "callback")
WAITS = (2.0, 6.5, 9.0, 12.0, 19.5, 21.0, 35.0)  # around the SL thresholds (10 s, 20 s)


@dataclass
class Script:
    frames: list[Frame] = field(default_factory=list)
    expected: dict[str, Counter[str]] = field(default_factory=dict)
    wraps: dict[str, float] = field(default_factory=dict)  # linkedid -> wrap seconds
    agents: tuple[str, ...] = ("1001", "1002", "1003", "1004")


def _frame(t: float, event: str, uid: str | None, linkedid: str | None, **kv: str) -> Frame:
    frame: Frame = {"Event": event, "Timestamp": f"{t:.6f}"}
    if uid is not None:
        frame["Uniqueid"] = uid
    if linkedid is not None:
        frame["Linkedid"] = linkedid
    frame.update(kv)
    return frame


def _dial(t: float, c: str, a: str, channel: str) -> list[Frame]:
    return [
        _frame(t, "Newchannel", a, c, Channel=channel),
        _frame(t, "DialBegin", c, c, DestUniqueid=a, DestLinkedid=c, DestChannel=channel),
        _frame(
            t,
            "DialEnd",
            c,
            c,
            DestUniqueid=a,
            DestLinkedid=c,
            DestChannel=channel,
            DialStatus="ANSWER",
        ),
    ]


def mixed_calls(start: float, n: int = 200, *, seed: int = 8, spacing: float = 45.0) -> Script:
    rng = random.Random(seed)
    script = Script()
    for i in range(n):
        c, queue, kind = f"live{i:04d}", QUEUES[i % 3], KINDS[(i // 3) % len(KINDS)]
        wait = rng.choice(WAITS)
        t0 = start + i * spacing
        ext = script.agents[i % len(script.agents)]
        out = [
            _frame(
                t0,
                "Newchannel",
                c,
                c,
                Channel=f"PJSIP/trunk-{i:08x}",
                CallerIDNum=f"1380000{i:04d}",
                CallerIDName="张伟",
                Context="hotline-inbound",
                Exten="95777",
            ),
            _frame(t0 + 1, "UserEvent", c, c, UserEvent="HotlineIvrStep", Node="main", Input="1"),
            _frame(
                t0 + 3,
                "UserEvent",
                c,
                c,
                UserEvent="HotlineIvrResult",
                Outcome="queue",
                Skill=queue,
                CallPriority="10",
            ),
            _frame(t0 + 3, "QueueCallerJoin", c, c, Queue=f"hold-{queue}", Position="1"),
        ]
        answered_at = t0 + 3 + wait
        end = answered_at + 60 + rng.randint(0, 120)
        counts = script.expected.setdefault(queue, Counter())
        counts["offered"] += 1
        if kind.startswith("answered") or kind == "transferred":
            counts["answered"] += 1
            counts["answered_in_sl"] += wait <= (10 if queue == "emergency" else 20)
            out += _dial(answered_at, c, f"a{i}", f"PJSIP/{ext}-{i:08x}")
            if kind == "answered_hold":
                out += [
                    _frame(answered_at + 10, "Hold", c, c),
                    _frame(answered_at + 25, "Unhold", c, c),
                ]
            if kind == "transferred":
                counts["transfers"] += 1
                other = script.agents[(i + 1) % len(script.agents)]
                moved = answered_at + 30
                out.append(_frame(moved, "Hangup", f"a{i}", c, Cause="16"))
                out += _dial(moved, c, f"b{i}", f"Local/{other}@hotline-test-agent-{i:08x};1")
                out.append(_frame(end, "Hangup", f"b{i}", c, Cause="16"))
            else:
                out.append(_frame(end, "Hangup", f"a{i}", c, Cause="16"))
            out.append(_frame(end, "Hangup", c, c, Cause="16"))
            if i % 4:
                script.wraps[c] = float(5 + i % 7)
        elif kind.startswith("abandon"):
            waited = 3.0 if kind == "abandon_short" else max(wait, 6.0)
            counts["short_abandoned" if waited < 5 else "abandoned"] += 1
            out += [
                _frame(t0 + 3 + waited, "QueueCallerAbandon", c, c, Queue=f"hold-{queue}"),
                _frame(t0 + 3 + waited, "Hangup", c, c, Cause="16"),
            ]
        else:  # callback: the caller asks to be called back, then hangs up
            counts["callbacks"] += 1
            out += [
                _frame(
                    t0 + 3 + wait,
                    "UserEvent",
                    c,
                    c,
                    UserEvent="HotlineCallbackRequest",
                    Number=f"1380000{i:04d}",
                    Queue=queue,
                ),
                _frame(t0 + 5 + wait, "Hangup", c, c, Cause="16"),
            ]
        script.frames += out
    script.frames.sort(key=lambda f: float(f["Timestamp"]))  # stable: per-call order kept
    return script
