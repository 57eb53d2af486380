"""How the live view takes the events of a bridge that restarted. Pure.

A restarted bridge counts each call's `seq` from 1 again and announces every call it
finds in Asterisk with call.started (`new_generation`); its snapshots are rebuilt from
Asterisk's channel list and may lack what the call log row already had (`carry_over`).
Calls of the Twilio front end are not Asterisk's: a resync says nothing about them
(`is_twilio_call`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from supervisor.live_calls import CallEntry

CALL_STARTED = "call.started"  # cti/events.py CallEventType.STARTED
# Twilio's CallSid ("CA" + 32 hex digits): the call_id of calls of the Twilio front end
# (ivr/twilio/calls.py), which Asterisk never has.
_TWILIO_SID = re.compile(r"^CA[0-9a-f]{32}$")


def is_twilio_call(call_id: str) -> bool:
    return _TWILIO_SID.match(call_id) is not None


def new_generation(event: Mapping[str, Any], old: CallEntry) -> bool:
    """A bridge that restarted announces each call it finds with call.started (its first
    event for a call, always) and counts seq from 1 again: for a call still in progress
    here, that event and the ones after it are news, whatever their seq."""
    return event.get("type") == CALL_STARTED and not old.ended


def carry_over(old: CallEntry, new: CallEntry) -> CallEntry:
    """`new` with what `old` already showed and `new` lacks. Within one bridge process a
    snapshot never loses a fact (times, queue, caller and agents are set once), so this
    changes nothing there; a restarted bridge rebuilds calls from Asterisk's channel list
    and may not know when the caller first queued, in which queue, or who answered first.
    The earliest known queue entry and answer win; the wait is counted from them as the
    tracker counts it (cti/tracking/model.py Call.wait_seconds)."""
    f, o = new.facts, old.facts
    queued_at = _earliest(new.queued_at, old.queued_at)
    answered_at = _earliest(new.answered_at, old.answered_at)
    wait = f.wait_seconds
    until = answered_at or new.ended_at
    carried = (queued_at, answered_at) != (new.queued_at, new.answered_at)
    if carried and queued_at is not None and until is not None:
        wait = round(max(0.0, (until - queued_at).total_seconds()), 3)
    facts = dataclasses.replace(
        f,
        started_at=min(f.started_at, o.started_at),
        queue=f.queue or o.queue,
        queued=queued_at is not None,
        answered=answered_at is not None,
        wait_seconds=wait,
    )
    return dataclasses.replace(
        new,
        facts=facts,
        queued_at=queued_at,
        answered_at=answered_at,
        caller_number=new.caller_number or old.caller_number,
        agents=[*old.agents, *(a for a in new.agents if a not in old.agents)],
    )


def _earliest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return b if a is None else a if b is None else min(a, b)
