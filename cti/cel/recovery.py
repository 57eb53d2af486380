"""On every resync: calls the bridge did not see end get their record, exactly once.

After the live channels are rebuilt (cti/tracking/resync.py), two kinds of calls remain
that no AMI event will ever close:

1. Calls that began and ended while the bridge was away (AMI link down, backend stopped,
   another process about to take the lead): only Asterisk's CEL store knows them.
2. Calls the call log holds as in progress that Asterisk no longer has: they ended while
   the bridge was away. CEL knows how, if it has them; otherwise nobody does.

`recover` reads the CEL rows written since the cursor (cel_cursors, per pbx_node), turns
each ended call into a record (cti/cel/record.py) and returns ordinary `call.ended`
events marked `recovered` ("cel" or "unobserved") with a full snapshot:
- a CEL call the log does not hold, whose first channel started after the cursor: a
  new record (a call that started before the cursor was the bridge's to see, or is no
  Hotline call at all: it is left alone);
- a CEL call the log holds still open (or closed as unobserved earlier): closed with
  CEL's facts merged over what the row knew (the row's IVR facts, skill, customer win);
  if it began before the cursor, its earlier rows are read by Linkedid first;
- an open row CEL does not have: closed as ended_unobserved at the resync time.
Rows for calls the tracker follows, or saw end (the writer may lag), are never touched,
nor rows created after the snapshot, nor Twilio calls. The writer applies `recovered`
events only to open rows (cti/calllog/upsert.py), so running this twice writes nothing
twice. The cursor moves only past calls whose records were already in the log, so a
recovery lost before the writer stored it is found again at the next resync.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

from cti.cel.record import (
    CallSpans,
    CelRow,
    call_from_cel,
    group_by_call,
    has_ended,
    started_in,
)
from cti.cel.store import CelStore, CelUnavailable
from cti.events import CallEventType, is_twilio_call
from cti.sequence import SPAN, compose
from cti.tracking.tracker import CallTracker, DomainEvent
from kernel.calls import Disposition

log = logging.getLogger(__name__)

FROM_CEL = "cel"
UNOBSERVED = "unobserved"
UNOBSERVED_TEXT = "ended while Hotline was away; Asterisk kept no record of how"
# Closed calls: what a recovered record may not overwrite (the writer enforces it too).
_OPEN = {Disposition.IN_PROGRESS.value, Disposition.ENDED_UNOBSERVED.value}
# Row values the log knew before the outage and CEL cannot know: they win over CEL's.
_ROW_WINS = (
    "ivr_path",
    "ivr_outcome",
    "ivr_facts",
    "priority",
    "customer_id",
    "tier",
    "language",
    "caller_name",
)


class CallHistory(Protocol):
    """The call log as the recovery needs it (cti/calllog/history.py)."""

    async def open_calls(self, started_before: float) -> dict[str, dict[str, Any]]: ...

    async def calls(self, linkedids: Collection[str]) -> dict[str, dict[str, Any]]: ...

    async def logged(self, linkedids: Collection[str]) -> set[str]:
        """Which of these calls the log holds (their Linkedids only)."""
        ...

    async def cursor(self) -> tuple[str, int] | None: ...

    async def save_cursor(self, store: str, last_id: int) -> None: ...


@dataclass
class RecoveryReport:
    cel_rows: int = 0
    new_from_cel: int = 0
    closed_from_cel: int = 0
    unobserved: int = 0
    cel_error: str | None = None


@dataclass(frozen=True)
class RecoverySettings:
    holding_queue_prefix: str = "hold-"
    inbound_context: str = "hotline-inbound"
    # The cursor stays this far behind the resync time (clock skew between Asterisk's
    # CEL times and ours, rows still being written): those rows are read again next time.
    margin_seconds: float = 30.0
    batch: int = 20_000
    # The cursor's pass reads its rows this many at a time and keeps none of them.
    cursor_batch: int = 2_000
    # How far back (in CEL rows) the whole story of a call still open in the log is
    # looked for: a bound on the scan (an SQLite CEL table has no index on linkedid).
    lookback_rows: int = 500_000


async def recover(
    tracker: CallTracker,
    history: CallHistory,
    store: CelStore | None,
    now: float,
    settings: RecoverySettings = RecoverySettings(),
) -> tuple[list[DomainEvent], RecoveryReport]:
    report = RecoveryReport()
    rows, cursor = await _read_cel(history, store, settings, report)
    groups = {
        call_id: group
        for call_id, group in group_by_call(rows).items()
        if not tracker.knows(call_id) and has_ended(group)
    }
    existing = await history.calls(groups) if groups else {}
    # A call the log holds open that began before the cursor: the window has only its
    # tail; its whole story is read by Linkedid (bounded to recent rows).
    tails = [
        k
        for k, g in groups.items()
        if k in existing and existing[k]["disposition"] in _OPEN and not started_in(g, k)
    ]
    if tails and store is not None and cursor is not None:
        floor = max(0, cursor - settings.lookback_rows)
        try:
            whole = group_by_call(await store.rows_for(tails, floor))
        except CelUnavailable as exc:
            report.cel_error = str(exc)
            whole = {}
        groups.update({k: g for k, g in whole.items() if k in groups})
    records: dict[str, dict[str, Any]] = {}
    first_row: dict[str, int] = {}
    for call_id, group in groups.items():
        call = call_from_cel(
            group,
            holding_queue_prefix=settings.holding_queue_prefix,
            inbound_context=settings.inbound_context,
        )
        if call is not None:
            records[call_id] = call.snapshot()
            first_row[call_id] = min(r.id for r in group if r.id > (cursor or 0))

    open_rows = {
        k: v
        for k, v in (await history.open_calls(now)).items()
        if not tracker.knows(k) and not is_twilio_call(k)
    }
    events: list[DomainEvent] = []
    hold_back: list[int] = []  # first CEL rows of calls recovered now: read again next time
    for call_id, record in records.items():
        row = existing.get(call_id)
        if row is None:
            if not started_in(groups[call_id], call_id):
                continue
            events.append(_ended(tracker, record, FROM_CEL))
            report.new_from_cel += 1
        elif row["disposition"] in _OPEN:
            events.append(_ended(tracker, merge_row_and_cel(row, record), FROM_CEL))
            report.closed_from_cel += 1
            open_rows.pop(call_id, None)
        else:
            continue
        hold_back.append(first_row[call_id])
    for _call_id, row in sorted(open_rows.items()):
        events.append(_ended(tracker, unobserved(row, now), UNOBSERVED))
        report.unobserved += 1

    if store is not None and cursor is not None and rows:
        done = [r.id for r in rows if r.eventtime <= now - settings.margin_seconds]
        last = max([cursor, *done])
        if hold_back:
            last = min(last, min(hold_back) - 1)
        if last > cursor:
            await history.save_cursor(store.identity, last)
    return events, report


async def advance_cursor(
    tracker: CallTracker,
    history: CallHistory,
    store: CelStore,
    now: float,
    settings: RecoverySettings = RecoverySettings(),
) -> int | None:
    """While the bridge stays connected, move the cursor over the rows of calls it saw
    live, so the next resync reads only its own outage, not weeks of history. A call in
    the window that neither the tracker nor the log knows (a recovery not yet written)
    holds the cursor before it. Returns the new cursor, or None if it did not move."""
    saved = await history.cursor()
    if saved is None or saved[0] != store.identity:
        return None
    cursor = saved[1]
    spans = CallSpans()
    cutoff = now - settings.margin_seconds
    after = last = cursor
    while True:  # a batch at a time: only each call's span is kept, not its rows
        batch = await store.rows_after(after, settings.cursor_batch)
        spans.feed(batch)
        for row in batch:
            if row.eventtime <= cutoff and row.id > last:
                last = row.id
        if len(batch) < settings.cursor_batch:
            break
        after = batch[-1].id
    ended = {k: first for k, first in spans.ended().items() if not tracker.knows(k)}
    logged = await history.logged(ended) if ended else set()
    unknown = [first for k, first in ended.items() if k not in logged]
    if unknown:
        last = min(last, min(unknown) - 1)
    if last <= cursor:
        return None
    await history.save_cursor(store.identity, last)
    return last


def merge_row_and_cel(row: dict[str, Any], cel: dict[str, Any]) -> dict[str, Any]:
    """A call the log held open, closed with what CEL says; what the row knew and CEL
    cannot know (the IVR's findings) stays. Pure."""
    merged = dict(cel)
    for key in _ROW_WINS:
        if row.get(key) not in (None, "", []):
            merged[key] = row[key]
    for key in ("skill", "caller_number", "dialed_number"):
        merged[key] = merged.get(key) or row.get(key)
    # The row saw the call begin (the tracker's times); CEL only fills what it lacks.
    for key in ("started_at", "ivr_ended_at", "queued_at", "offered_at"):
        if row.get(key) is not None:
            merged[key] = row[key]
    if row.get("agents") and not merged.get("agents"):
        merged["agents"], merged["agent"] = row["agents"], row["agent"]
    merged["call_id"] = row["call_id"]
    return merged


def unobserved(row: dict[str, Any], now: float) -> dict[str, Any]:
    """An open row whose call is gone and unrecorded: closed at `now`, saying so. Pure."""
    closed = dict(row)
    closed.update(
        ended_at=now,
        disposition=Disposition.ENDED_UNOBSERVED.value,
        hangup_cause_txt=UNOBSERVED_TEXT,
        resynced=True,
    )
    return closed


def _ended(tracker: CallTracker, snapshot: dict[str, Any], source: str) -> DomainEvent:
    # The last number of this session: no event of this session outranks a recovered
    # end, and any later session's events outrank it (cti/sequence.py).
    return {
        "type": CallEventType.ENDED.value,
        "call_id": snapshot["call_id"],
        "seq": compose(tracker.generation, SPAN - 1),
        "at": snapshot.get("ended_at"),
        "recovered": source,
        "call": snapshot,
    }


async def _read_cel(
    history: CallHistory, store: CelStore | None, settings: RecoverySettings, report: RecoveryReport
) -> tuple[list[CelRow], int | None]:
    """Rows after the cursor (none on the first start: Asterisk's past before Hotline ran
    is not imported), and the cursor they were read from (None: no usable store)."""
    if store is None:
        return [], None
    try:
        saved = await history.cursor()
        if saved is None or saved[0] != store.identity:
            last = await store.last_id()
            await history.save_cursor(store.identity, last)
            log.info("CEL store %s: reading from row %d on", store.identity, last)
            return [], last
        cursor = saved[1]
        rows: list[CelRow] = []
        while True:
            batch = await store.rows_after(rows[-1].id if rows else cursor, settings.batch)
            rows += batch
            if len(batch) < settings.batch:
                break
        report.cel_rows = len(rows)
        return rows, cursor
    except CelUnavailable as exc:
        report.cel_error = str(exc)
        log.warning("CEL store unreadable (%s): calls gone from Asterisk close unobserved", exc)
        return [], None
