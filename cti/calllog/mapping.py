"""Tracker snapshot -> `calls` row values. Pure."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kernel.clock import from_timestamp

_TIMES = ("started_at", "ivr_ended_at", "queued_at", "offered_at", "answered_at", "ended_at")


def call_row_values(
    snapshot: dict[str, Any], *, seq: int, customer_id: int | None, agent_id: int | None
) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: (from_timestamp(snapshot[name]) if snapshot.get(name) is not None else None)
        for name in _TIMES
    }
    values.update(
        direction=snapshot.get("direction", "in"),
        caller_number=(snapshot.get("caller_number") or "")[:40],
        caller_name=(snapshot.get("caller_name") or None) and snapshot["caller_name"][:80],
        dialed_number=(snapshot.get("dialed_number") or "")[:40],
        ivr_path=list(snapshot.get("ivr_path") or []),
        self_service_outcome=_short(snapshot.get("ivr_outcome")),
        skill=_short(snapshot.get("skill")),
        queue=_short(snapshot.get("skill")),
        priority=int(snapshot.get("priority") or 0),
        tier=(snapshot.get("tier") or None) and str(snapshot["tier"])[:1],
        language=(snapshot.get("language") or None) and str(snapshot["language"])[:8],
        customer_id=customer_id,
        agent_id=agent_id,
        agents=list(snapshot.get("agents") or []),
        agent_talk={str(k): float(v) for k, v in (snapshot.get("agent_talk") or {}).items()},
        offers=int(snapshot.get("offers") or 0),
        no_answers=int(snapshot.get("no_answers") or 0),
        wait_seconds=float(snapshot.get("wait_seconds") or 0),
        talk_seconds=float(snapshot.get("talk_seconds") or 0),
        hold_seconds=float(snapshot.get("hold_seconds") or 0),
        disposition=snapshot.get("disposition", "in_progress"),
        hangup_cause=_short(snapshot.get("hangup_cause"), 16),
        hangup_cause_text=_short(snapshot.get("hangup_cause_txt"), 80),
        transfers=int(snapshot.get("transfers") or 0),
        last_seq=seq,
    )
    return values


def timeline_data(event: dict[str, Any]) -> dict[str, Any]:
    """What a timeline row keeps of an event: its own fields, not the whole snapshot."""
    return {k: v for k, v in event.items() if k not in ("call", "type", "call_id", "seq", "at")}


def customer_ref(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _short(value: Any, limit: int = 40) -> str | None:
    return None if value in (None, "") else str(value)[:limit]


def snapshot_from_row(row: dict[str, Any]) -> dict[str, Any]:
    """A `calls` row -> the snapshot that would write it (the inverse of call_row_values,
    as far as the row keeps things): what a resync knows of a call it did not see end."""
    snap: dict[str, Any] = {name: _epoch(row.get(name)) for name in _TIMES}
    agents = [str(a) for a in row.get("agents") or []]
    disposition = str(getattr(row.get("disposition"), "value", row.get("disposition")) or "")
    snap.update(
        call_id=str(row["linkedid"]),
        direction=str(getattr(row.get("direction"), "value", row.get("direction")) or "in"),
        caller_number=row.get("caller_number") or "",
        caller_name=row.get("caller_name") or "",
        dialed_number=row.get("dialed_number") or "",
        ivr_path=list(row.get("ivr_path") or []),
        ivr_outcome=row.get("self_service_outcome"),
        ivr_facts="",
        skill=row.get("skill"),
        priority=row.get("priority"),
        customer_id=str(row["customer_id"]) if row.get("customer_id") else None,
        tier=row.get("tier"),
        language=row.get("language"),
        agent=agents[0] if agents else None,
        agents=agents,
        offers=int(row.get("offers") or 0),
        no_answers=int(row.get("no_answers") or 0),
        transfers=int(row.get("transfers") or 0),
        wait_seconds=float(row.get("wait_seconds") or 0),
        talk_seconds=float(row.get("talk_seconds") or 0),
        hold_seconds=float(row.get("hold_seconds") or 0),
        callback_requested=disposition == "callback_requested",
        overflowed=disposition == "overflowed",
        hangup_cause=row.get("hangup_cause"),
        hangup_cause_txt=row.get("hangup_cause_text"),
        disposition=disposition or "in_progress",
        resynced=True,
    )
    return snap


def _epoch(value: Any) -> float | None:
    return value.timestamp() if isinstance(value, dt.datetime) else None
