"""Rebuild live call state after a (re)login, from CoreShowChannels and QueueStatus.

Whatever happened while the AMI link was down is reconciled, so every call still ends
in exactly one record: legs we tracked that Asterisk no longer has ended during the
gap (their end time is the resync time, the best we know); channels we never saw
started during the gap (their start is now minus their age); waiting callers and
bridged agents are restored. What the IVR decided is read back from the caller's channel
variables where the bridge could fetch them (`IVR_VARIABLES`, AMI Getvar per channel),
so a call rebuilt after a restart still knows its skill, priority, customer, tier and
language. Pure: frames in, domain events out.
"""

from __future__ import annotations

from collections import defaultdict

from cti.ami.frames import Frame
from cti.tracking.model import Call, extension_of
from cti.tracking.tracker import CallTracker, DomainEvent

LINK_LOST = "ended while the AMI link was down"

# One AMI Getvar per live channel returns every variable the IVR leaves on the caller's
# channel (ivr/handover.py dialplan_variables; deploy/asterisk/extensions.conf reads
# them too): EVAL substitutes them on that channel. Must be kept in sync with both.
IVR_VARIABLE_NAMES = (
    "HOTLINE_SKILL",
    "HOTLINE_PRIORITY",
    "HOTLINE_CUSTOMER_ID",
    "HOTLINE_TIER",
    "HOTLINE_LANGUAGE",
)
IVR_VARIABLES = "EVAL(" + "|".join(f"${{{n}}}" for n in IVR_VARIABLE_NAMES) + ")"


def parse_ivr_variables(value: str) -> dict[str, str]:
    """The Getvar reply of IVR_VARIABLES -> the non-empty variables by name."""
    parts = value.split("|")
    if len(parts) != len(IVR_VARIABLE_NAMES):
        return {}
    return {n: v.strip() for n, v in zip(IVR_VARIABLE_NAMES, parts, strict=True) if v.strip()}


def parse_duration(text: str | None) -> float:
    """'01:02:03' -> 3723.0; anything unreadable counts as 0."""
    if not text:
        return 0.0
    try:
        seconds = 0.0
        for part in text.split(":"):
            seconds = seconds * 60 + float(part)
        return seconds
    except ValueError:
        return 0.0


def resync(
    tracker: CallTracker,
    channels: list[Frame],
    queue_entries: list[Frame],
    at: float,
    variables: dict[str, dict[str, str]] | None = None,
) -> list[DomainEvent]:
    """`variables`: uniqueid -> parse_ivr_variables() of that channel, where read."""
    live = {f["Uniqueid"]: f for f in channels if f.get("Uniqueid")}
    events: list[DomainEvent] = []

    for call in list(tracker.calls.values()):
        call.resynced = True
        for uniqueid in list(call.legs):
            if uniqueid not in live:
                events += tracker.handle(
                    _frame(
                        "Hangup",
                        uniqueid,
                        call.call_id,
                        at,
                        **{"Cause": "0", "Cause-txt": LINK_LOST},
                    )
                )

    # A call's root leg (Uniqueid == Linkedid) first, so that it, not an agent's leg,
    # becomes the call's caller; then oldest first. Durations have whole-second
    # resolution: an agent dialled in the caller's second ties with it, and the order
    # CoreShowChannels lists them in must not decide who the caller is.
    for f in sorted(live.values(), key=_creation_order):
        uniqueid = f["Uniqueid"]
        if uniqueid in tracker.leg_index:
            continue
        started = at - parse_duration(f.get("Duration"))
        events += tracker.handle(
            _frame(
                "Newchannel",
                uniqueid,
                f.get("Linkedid") or uniqueid,
                started,
                **_copy(f, "Channel", "CallerIDNum", "CallerIDName", "Context", "Exten"),
            )
        )
        call_id = tracker.leg_index.get(uniqueid)
        if call_id is not None:
            tracker.calls[call_id].resynced = True
            _restore_ivr_result(tracker.calls[call_id], (variables or {}).get(uniqueid, {}))

    for entry in queue_entries:
        call_id = tracker.leg_index.get(entry.get("Uniqueid", ""))
        if call_id is None or tracker.calls[call_id].queued_at is not None:
            continue
        joined = at - parse_duration(entry.get("Wait"))
        events += tracker.handle(
            _frame(
                "QueueCallerJoin",
                entry["Uniqueid"],
                call_id,
                joined,
                Queue=entry.get("Queue", ""),
                Position=entry.get("Position", "0"),
            )
        )

    # Channels sharing a bridge with the caller: an agent is already talking.
    by_bridge: dict[str, list[Frame]] = defaultdict(list)
    for f in live.values():
        if f.get("BridgeId"):
            by_bridge[f["BridgeId"]].append(f)
    for members in by_bridge.values():
        events += _restore_bridge(tracker, members, at)
    # Every snapshot a resync produces is an estimate (a call.started included: its
    # call was marked only after the event was made), so the call log merges it into
    # what it knows instead of replacing (cti/calllog/upsert.py).
    for event in events:
        event["call"]["resynced"] = True
    return events


def _creation_order(f: Frame) -> tuple[bool, float, float]:
    uniqueid = f["Uniqueid"]
    is_root = uniqueid == (f.get("Linkedid") or uniqueid)
    try:  # Asterisk's uniqueids are "<epoch>.<sequence>": later channels sort later
        sequence = float(uniqueid.rpartition(".")[2] or "inf")
    except ValueError:
        sequence = float("inf")
    return (not is_root, -parse_duration(f.get("Duration")), sequence)


def _restore_ivr_result(call: Call, found: dict[str, str]) -> None:
    """What the IVR decided, from a leg's channel variables; known values are kept."""
    if not found:
        return
    call.skill = call.skill or found.get("HOTLINE_SKILL")
    if call.priority is None and found.get("HOTLINE_PRIORITY", "").isdigit():
        call.priority = int(found["HOTLINE_PRIORITY"])
    call.customer_id = call.customer_id or found.get("HOTLINE_CUSTOMER_ID")
    call.tier = call.tier or found.get("HOTLINE_TIER")
    call.language = call.language or found.get("HOTLINE_LANGUAGE")


def _restore_bridge(tracker: CallTracker, members: list[Frame], at: float) -> list[DomainEvent]:
    """Members of one bridge: per call, the oldest member is the caller's side (the
    caller's own channel, or the Local channel half that carries it into the bridge: the
    call's root leg need not be bridged) and every other member is an agent who answered
    it. Which member AMI lists first does not matter."""
    events: list[DomainEvent] = []
    by_call: dict[str, list[Frame]] = defaultdict(list)
    for f in members:
        call_id = tracker.leg_index.get(f["Uniqueid"])
        if call_id is not None:
            by_call[call_id].append(f)
    for call_id, legs in by_call.items():
        if len(legs) < 2:
            continue
        call = tracker.calls[call_id]
        callers = [f for f in legs if call.legs[f["Uniqueid"]].role == "caller"]
        caller_side = callers[0] if callers else min(legs, key=_creation_order)
        for f in sorted(legs, key=_creation_order):
            leg = call.legs[f["Uniqueid"]]
            if f is caller_side or leg.role == "caller" or f["Uniqueid"] in call.answered_legs:
                continue
            answered = at - parse_duration(f.get("Duration"))
            leg.role, leg.agent = "agent", extension_of(f.get("Channel", ""))
            events += tracker.handle(
                _frame(
                    "DialEnd",
                    call.call_id,
                    call.call_id,
                    answered,
                    DestUniqueid=f["Uniqueid"],
                    DestChannel=f.get("Channel", ""),
                    DialStatus="ANSWER",
                )
            )
    return events


def _frame(event: str, uniqueid: str, linkedid: str, at: float, **headers: str) -> Frame:
    frame: Frame = {
        "Event": event,
        "Uniqueid": uniqueid,
        "Linkedid": linkedid,
        "Timestamp": f"{at:.6f}",
    }
    frame.update(headers)
    return frame


def _copy(f: Frame, *keys: str) -> dict[str, str]:
    out = {k: f[k] for k in keys if k in f}
    if "Exten" not in out and "Extension" in f:
        out["Exten"] = f["Extension"]  # CoreShowChannel calls it Extension
    return out
