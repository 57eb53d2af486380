"""What a call is, in words every feature shares: how it ended (Disposition) and which
way it went (Direction). One definition: the call tracker (cti/), the call log's table
(db/models/calls.py), the Twilio IVR, the desk and the reports use these; the stored
values are these strings."""

from __future__ import annotations

from enum import StrEnum


class Disposition(StrEnum):
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    ABANDONED_IVR = "abandoned_ivr"
    ABANDONED_QUEUE = "abandoned_queue"
    SELF_SERVICE = "self_service"
    CALLBACK_REQUESTED = "callback_requested"
    OVERFLOWED = "overflowed"
    FAILED = "failed"
    # Closed by a resync: the call was gone from Asterisk and nothing recorded how it
    # ended (no CEL store, or CEL had no row; see cti/cel/); ended_at is when that was
    # found out. Never left in progress for good.
    ENDED_UNOBSERVED = "ended_unobserved"


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"
    INTERNAL = "internal"
