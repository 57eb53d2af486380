"""Event sequence numbers that keep a call's order across bridge sessions. Pure.

Consumers (the call log, the live view) keep the newest snapshot of a call by `seq`
(cti/events.py). A counter per call that starts at 1 in every process would make every
event of a call that spans a backend restart (or a failover of the elected bridge to
another process) look older than what the log already holds, and be ignored. So:

    seq = generation * SPAN + counter

`generation` names one bridge session: centiseconds since EPOCH when the session began,
strictly increasing within a process (`next_generation`), so a session started later
always numbers above every event of an earlier one, whichever process ran it (clocks of
failover peers must agree to well under the life of a session: NTP). `counter` counts
the call's events in this session, from 1. Values stay below 2**53 until about 2110, so
JSON and JavaScript read them exactly; the database columns are BIGINT (migration 0004).
A call with more than SPAN events in one session spills into the next generation's
range: still increasing, and a later session starts far above it.
"""

from __future__ import annotations

import datetime as dt

SPAN = 2**15  # events of one call in one session before spilling over
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp()
TICKS_PER_SECOND = 100
MAX_SAFE = 2**53 - 1  # the largest integer a JSON number keeps exactly in JavaScript


def generation_at(epoch_seconds: float) -> int:
    """The generation of a session that begins at `epoch_seconds` (never below 1)."""
    return max(1, int((epoch_seconds - EPOCH) * TICKS_PER_SECOND))


def next_generation(previous: int, epoch_seconds: float) -> int:
    """A new session's generation: from the clock, and above `previous` whatever the
    clock says (two sessions in one centisecond, or a clock stepped back)."""
    return max(previous + 1, generation_at(epoch_seconds))


def compose(generation: int, counter: int) -> int:
    seq = generation * SPAN + counter
    if seq > MAX_SAFE:
        raise OverflowError(f"event seq {seq} is past 2**53: the generation clock is wrong")
    return seq


def generation_of(seq: int) -> int:
    return seq // SPAN
