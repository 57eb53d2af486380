"""Seeded generators of garbled AMI traffic (no real channel ids are ever reused)."""

from __future__ import annotations

import random

EVENTS = [
    "Newchannel",
    "Hangup",
    "DialBegin",
    "DialEnd",
    "UserEvent",
    "QueueCallerJoin",
    "Hold",
    "Unhold",
    "BlindTransfer",
    "AgentConnect",
    "VarSet",
    "Bogus",
]


def fuzz_frames(n: int, seed: int = 7) -> list[bytes]:
    rnd = random.Random(seed)
    out: list[bytes] = []
    for i in range(n):
        kind = rnd.randrange(8)
        fake = f"fz{i}.{rnd.randrange(10**6)}"
        if kind == 0:  # random bytes, including NULs and lone CRs
            body = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 200)))
            out.append(body.replace(b"\r\n\r\n", b"") + b"\r\n\r\n")
        elif kind == 1:  # invalid UTF-8 in values
            out.append(
                b"Event: Newchannel\r\nUniqueid: "
                + fake.encode()
                + b"\r\nCallerIDName: \xff\xfe\xe5\x80\r\n\r\n"
            )
        elif kind == 2:  # missing headers
            out.append(f"Event: {rnd.choice(EVENTS)}\r\n\r\n".encode())
        elif kind == 3:  # huge value (over the frame limit sometimes)
            size = rnd.choice([10_000, 300_000])
            out.append(
                b"Event: VarSet\r\nUniqueid: "
                + fake.encode()
                + b"\r\nValue: "
                + b"A" * size
                + b"\r\n\r\n"
            )
        elif kind == 4:  # truncated frame, then terminated
            full = (
                f"Event: {rnd.choice(EVENTS)}\r\nUniqueid: {fake}\r\nLinkedid: {fake}\r\n"
                f"DestUniqueid: {fake}x\r\nDialStatus: ANSWER\r\nCallPriority: 9\r\n"
            ).encode()
            out.append(full[: rnd.randrange(1, len(full))] + b"\r\n\r\n")
        elif kind == 5:  # structurally valid event about a call nobody knows
            out.append(
                (
                    f"Event: {rnd.choice(EVENTS)}\r\nUniqueid: {fake}\r\nLinkedid: {fake}\r\n"
                    f"Timestamp: {rnd.choice(['x', '-1', '1e309', str(rnd.random() * 2e9)])}\r\n\r\n"
                ).encode()
            )
        elif kind == 6:  # header lines without separators, odd spacing
            out.append(
                b"Event:Hangup\r\nUniqueid:" + fake.encode() + b"\r\n:::\r\nno colon\r\n \r\n\r\n"
            )
        else:  # a Response nobody asked for
            out.append(f"Response: Error\r\nActionID: nobody-{i}\r\nMessage: ?\r\n\r\n".encode())
    return out
