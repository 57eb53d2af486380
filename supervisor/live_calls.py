"""Today's calls as the live view counts them: the call log, folded as it is written. Pure.

Contract with the call log (cti/calllog): the same snapshot -> row mapping
(`call_row_values`), the same "newer seq wins" rule, and call.wrapped setting
wrap_seconds; and with the reports (reports/metrics.py): every call that *started* today
(center time zone) is folded with `call_aggregates`, in-progress ones with their latest
snapshot, exactly as a day report over the calls table would see them at this moment.
Totals of ended calls are kept incrementally (a correction subtracts the old share and
adds the new); in-progress calls, few at any time, are folded when a snapshot is taken.

After a restart (of this process or of the bridge) the calls in progress are checked
against Asterisk: rows loaded from the database are *unconfirmed* until the bridge's
resync names them (`reconcile`, from pbx.connected `call_ids`) or one of their events
arrives; a call Asterisk no longer has is *lost*: still counted as its row is (the call
log closes it), never shown as a caller waiting or on an agent. A restarted bridge's
events are taken as supervisor/live_resync.py says.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from cti.calllog.mapping import call_row_values
from reports.metrics import Aggregates, CallFacts, Thresholds, call_aggregates
from supervisor.call_entry import IN_PROGRESS, CallEntry
from supervisor.ended_calls import EndedCalls
from supervisor.live_resync import carry_over, is_twilio_call, new_generation

__all__ = ["CallEntry", "DayCalls", "entry_from_row", "facts_from_row"]

MAX_REMEMBERED = 10_000  # pending wrap-ups and dropped calls kept, each


def facts_from_row(row: Mapping[str, Any]) -> CallFacts:
    """A calls row (or `call_row_values` output) -> what the metrics read."""
    return CallFacts(
        started_at=row["started_at"],
        queue=row.get("queue"),
        queued=row.get("queued_at") is not None,
        answered=row.get("answered_at") is not None,
        disposition=str(row.get("disposition") or IN_PROGRESS),
        wait_seconds=float(row.get("wait_seconds") or 0),
        talk_seconds=float(row.get("talk_seconds") or 0),
        hold_seconds=float(row.get("hold_seconds") or 0),
        wrap_seconds=float(row.get("wrap_seconds") or 0),
        transfers=int(row.get("transfers") or 0),
        first_contact_resolution=row.get("first_contact_resolution"),
    )


def minus(a: Aggregates, b: Aggregates) -> Aggregates:
    return Aggregates(
        **{f.name: getattr(a, f.name) - getattr(b, f.name) for f in dataclasses.fields(a)}
    )


def entry_from_row(linkedid: str, row: Mapping[str, Any], seq: int) -> CallEntry:
    disposition = str(row.get("disposition") or IN_PROGRESS)
    return CallEntry(
        linkedid=linkedid,
        seq=seq,
        facts=facts_from_row(row),
        ended=disposition != IN_PROGRESS or row.get("ended_at") is not None,
        queued_at=row.get("queued_at"),
        answered_at=row.get("answered_at"),
        ended_at=row.get("ended_at"),
        caller_number=str(row.get("caller_number") or ""),
        agents=[str(a) for a in row.get("agents") or []],
    )


class DayCalls:
    """Calls that started on one local day, plus every call still in progress (a caller
    who started waiting before midnight still waits). `calls` holds the calls in progress,
    `ended` today's ended ones, packed (supervisor/ended_calls.py): a snapshot reads only
    the first, and the second is kept small because it grows with every call of the day."""

    def __init__(self, thresholds: Thresholds, day_start: dt.datetime) -> None:
        self.thresholds = thresholds
        self.day_start = day_start
        self.calls: dict[str, CallEntry] = {}
        self.ended = EndedCalls()
        self._ended_totals: dict[str, Aggregates] = {}  # queue ("" = none) -> sums
        self._ended_handled: dict[str, int] = {}  # extension -> today's ended calls answered
        self._wraps: OrderedDict[str, float] = OrderedDict()  # wrap-ups seen before the call
        # Yesterday's calls that ended today (not counted, dropped): their last seq, so a
        # redelivered older event does not bring one back as a caller still waiting.
        self._gone: OrderedDict[str, int] = OrderedDict()

    def get(self, linkedid: str) -> CallEntry | None:
        """The call, in progress or ended today."""
        entry = self.calls.get(linkedid)
        return entry if entry is not None else self.ended.get(linkedid)

    # -- input ---------------------------------------------------------------------------

    def load(self, rows: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Rows of the calls table (linkedid, row with last_seq): the state after a restart."""
        for linkedid, row in rows:
            entry = entry_from_row(linkedid, row, int(row.get("last_seq") or 0))
            entry.node = row.get("pbx_node")
            # In progress: until Asterisk confirms it (Twilio calls are not Asterisk's).
            entry.confirmed = entry.ended or is_twilio_call(linkedid)
            self._put(entry)

    def apply(self, event: Mapping[str, Any]) -> bool:
        """One "call" bus event; True if it changed anything."""
        snapshot = event.get("call")
        if not isinstance(snapshot, dict) or "call_id" not in event:
            if event.get("type") == "call.wrapped":
                return self._wrapped(event)
            return False
        linkedid = str(event["call_id"])
        seq = int(event.get("seq") or 0)
        old = self.get(linkedid)
        if old is not None and old.seq >= seq and not new_generation(event, old):
            return False  # redelivered or out of order: the call log ignores it too
        if seq <= self._gone.get(linkedid, -1):
            return False
        values = call_row_values(snapshot, seq=seq, customer_id=None, agent_id=None)
        # call_row_values leaves wrap-up out: call.wrapped sets it on the row.
        values["wrap_seconds"] = old.facts.wrap_seconds if old is not None else 0.0
        entry = entry_from_row(linkedid, values, seq)
        if old is not None:
            entry = carry_over(old, entry)
        entry.node = str(event.get("pbx_node") or "") or (old.node if old else None)
        wrap = self._wraps.pop(linkedid, None)
        if wrap is not None:
            entry.facts = dataclasses.replace(entry.facts, wrap_seconds=wrap)
        self._put(entry, old)
        return True

    def _wrapped(self, event: Mapping[str, Any]) -> bool:
        linkedid = str(event.get("linkedid") or event.get("call_ref") or "")
        if not linkedid:
            return False
        wrap = float(event.get("wrap_seconds") or 0)
        entry = self.get(linkedid)
        if entry is None:
            self._wraps[linkedid] = wrap
            while len(self._wraps) > MAX_REMEMBERED:
                self._wraps.popitem(last=False)
            return False
        new = dataclasses.replace(entry, facts=dataclasses.replace(entry.facts, wrap_seconds=wrap))
        self._put(new, entry)
        return True

    def _put(self, entry: CallEntry, old: CallEntry | None = None) -> None:
        """`old`: the call as held before, if the caller has it (read otherwise)."""
        linkedid = entry.linkedid
        if old is None:
            old = self.get(linkedid)
        if old is not None and old.ended and self.counts(old):
            self._add(old, subtract=True)
        if not entry.ended:
            self.ended.pop(linkedid)
            self.calls[linkedid] = entry
            return
        self.calls.pop(linkedid, None)
        if self.counts(entry):
            self.ended.put(entry)
            self._add(entry)
        else:  # yesterday's call, now over
            self.ended.pop(linkedid)
            self._gone[linkedid] = entry.seq
            while len(self._gone) > MAX_REMEMBERED:
                self._gone.popitem(last=False)

    def _add(self, entry: CallEntry, *, subtract: bool = False) -> None:
        """Add (or take out) an ended call's share of the day: totals, agents' handled."""
        key = entry.facts.queue or ""
        share = call_aggregates(entry.facts, self.thresholds)
        current = self._ended_totals.get(key, Aggregates())
        self._ended_totals[key] = minus(current, share) if subtract else current + share
        if entry.answered_at is not None:
            for ext in set(entry.agents):
                self._ended_handled[ext] = self._ended_handled.get(ext, 0) + (-1 if subtract else 1)

    def reconcile(self, live: Collection[str], node: str | None = None) -> list[str]:
        """Asterisk's calls (Linkedids) right after a resync. A call in progress here
        that Asterisk does not have is lost (its row stays in progress until the call log
        closes it); the others are confirmed. Twilio calls are not Asterisk's: left as
        they are. With several Asterisk nodes, `node` is the one that resynced: the
        others' calls are not in its list. Returns the Linkedids found lost."""
        lost = []
        for entry in self.calls.values():
            if is_twilio_call(entry.linkedid):
                continue
            if node is not None and entry.node is not None and entry.node != node:
                continue
            entry.confirmed = entry.linkedid in live
            entry.lost = not entry.confirmed
            if entry.lost:
                lost.append(entry.linkedid)
        return lost

    def counts(self, entry: CallEntry) -> bool:
        return entry.facts.started_at >= self.day_start

    def roll_over(self, day_start: dt.datetime) -> None:
        """A new local day: ended calls go, calls in progress stay (not counted)."""
        self.day_start = day_start
        self._ended_totals.clear()
        self._ended_handled.clear()
        self.ended.clear()

    # -- output --------------------------------------------------------------------------

    def totals(self) -> dict[str, Aggregates]:
        """Per queue ("" = calls without one) for today: what the day report shows."""
        out = dict(self._ended_totals)
        for entry in self.calls.values():
            if self.counts(entry):
                key = entry.facts.queue or ""
                out[key] = out.get(key, Aggregates()) + call_aggregates(
                    entry.facts, self.thresholds
                )
        return out

    def _shown(self, entry: CallEntry, confirmed_only: bool) -> bool:
        return entry.confirmed or not confirmed_only

    def waiting(self, *, confirmed_only: bool = False) -> list[CallEntry]:
        """Callers in a queue now, longest waiting first. `confirmed_only`: leave out
        rows Asterisk has not confirmed yet (a resync is due)."""
        found = [e for e in self.calls.values() if e.waiting and self._shown(e, confirmed_only)]
        return sorted(found, key=lambda e: e.queued_at or e.facts.started_at)

    def current_calls(self, *, confirmed_only: bool = False) -> dict[str, CallEntry]:
        """Extension -> the call the agent is on (the last agent who answered it)."""
        out: dict[str, CallEntry] = {}
        for e in self.calls.values():
            if e.live and e.answered_at is not None and e.agents and self._shown(e, confirmed_only):
                out[e.agents[-1]] = e
        return out

    def handled(self) -> dict[str, int]:
        """Extension -> today's calls the agent answered (any leg of them)."""
        out = {ext: n for ext, n in self._ended_handled.items() if n}
        for e in self.calls.values():
            if self.counts(e) and e.answered_at is not None:
                for ext in set(e.agents):
                    out[ext] = out.get(ext, 0) + 1
        return out
