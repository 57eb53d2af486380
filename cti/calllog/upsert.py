"""How a snapshot updates an existing `calls` row: the ON CONFLICT rules, per column.

Three kinds of snapshot reach the call log (cti/events.py):
- live: the tracker followed the call; the newest seq wins and replaces the row.
- resynced (`resynced`): the tracker rebuilt the call from Asterisk's channel list after
  a reconnect or a restart. It knows little (no IVR path, skill or customer unless the
  channel variables were read back, counters from 0, times estimated from durations),
  so it never overwrites a known value with an empty one, earlier, observed times win
  over estimates (KEEP_* below), and a row seen answered or queued is not downgraded to
  an unanswered disposition the rebuilt call could not tell apart.
- recovered (event `recovered`): written once on resync from Asterisk's own record (CEL)
  or because the call is gone without one (ended_unobserved). It only closes a row that
  is still open (or unobserved), and merges like a resynced snapshot.
A live final snapshot of an older session (redelivered late by the bus) may still
replace an `ended_unobserved` row: it knows how the call ended, the resync did not.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from kernel.calls import Disposition

# Observed first, estimated later: the row's value wins when it has one.
KEEP_EXISTING = (
    "started_at",
    "ivr_ended_at",
    "queued_at",
    "offered_at",
    "answered_at",
    "agent_id",
    "customer_id",
)
# Text the resync may not know: an empty new value keeps the old one.
KEEP_TEXT = (
    "caller_number",
    "caller_name",
    "dialed_number",
    "self_service_outcome",
    "skill",
    "queue",
    "tier",
    "language",
    "hangup_cause",
    "hangup_cause_text",
)
KEEP_NONZERO = ("priority", "wait_seconds")
KEEP_LARGER = ("offers", "no_answers", "transfers", "talk_seconds", "hold_seconds")
KEEP_LIST = ("ivr_path", "agents")
TAKE_NEW_UNLESS_NULL = ("ended_at",)

_OPEN = (Disposition.IN_PROGRESS.value, Disposition.ENDED_UNOBSERVED.value)
# A resynced end knows less than the row: a call the row saw answered, or queued, did
# not end "abandoned in the IVR" because the rebuilt call missed the agent or the queue.
_UNANSWERED = (
    Disposition.ABANDONED_IVR.value,
    Disposition.ABANDONED_QUEUE.value,
    Disposition.FAILED.value,
)


def update_set(
    table: sa.Table, excluded: Any, columns: list[str], dialect: str, *, merge: bool
) -> dict[str, Any]:
    """The SET clause: plain replacement, or (merge) the keep-what-is-known rules."""
    out: dict[str, Any] = {}
    for name in columns:
        new, old = excluded[name], table.c[name]
        if not merge:
            out[name] = new
        elif name in KEEP_EXISTING:
            out[name] = sa.func.coalesce(old, new)
        elif name in KEEP_TEXT:
            out[name] = sa.func.coalesce(sa.func.nullif(new, ""), old)
        elif name in KEEP_NONZERO:
            out[name] = sa.case((new == 0, old), else_=new)
        elif name in KEEP_LARGER:
            out[name] = sa.case((new > old, new), else_=old)
        elif name in KEEP_LIST:
            length = (
                sa.func.jsonb_array_length if dialect == "postgresql" else sa.func.json_array_length
            )
            out[name] = sa.case((length(new) == 0, old), else_=new)
        elif name in TAKE_NEW_UNLESS_NULL:
            out[name] = sa.func.coalesce(new, old)
        elif name == "disposition":
            out[name] = _merged_disposition(table, excluded)
        else:
            out[name] = new
    return out


def _merged_disposition(table: sa.Table, excluded: Any) -> Any:
    new, c = excluded.disposition, table.c
    return sa.case(
        (
            sa.and_(_one_of(new, _UNANSWERED), c.answered_at.is_not(None)),
            Disposition.ANSWERED.value,
        ),
        (
            sa.and_(new == Disposition.ABANDONED_IVR.value, c.queued_at.is_not(None)),
            Disposition.ABANDONED_QUEUE.value,
        ),
        else_=new,
    )


def update_where(table: sa.Table, excluded: Any, *, recovered: bool) -> Any:
    """Which existing rows the snapshot may update."""
    if recovered:
        return _one_of(table.c.disposition, _OPEN)
    unobserved = Disposition.ENDED_UNOBSERVED.value
    return sa.or_(
        table.c.last_seq < excluded.last_seq,
        sa.and_(table.c.disposition == unobserved, sa.not_(_one_of(excluded.disposition, _OPEN))),
    )


def _one_of(column: Any, values: tuple[str, ...]) -> Any:
    """`column IN (values)` as plain comparisons: an IN list is an "expanding" parameter,
    which an executemany (the writer's upserts) cannot take."""
    return sa.or_(*(column == v for v in values))
