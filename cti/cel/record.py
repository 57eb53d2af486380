"""CEL rows of one call -> the call record. Pure, like the tracker (cti/tracking/).

Asterisk's Channel Event Logging (deploy/asterisk/cel.conf) keeps what happened while
the bridge was not watching. `call_from_cel` builds the same `Call` aggregate the
tracker builds from AMI events, so a recovered call has the same snapshot and the same
disposition rules (`Call.final_disposition`). What CEL says, per event type:

    CHAN_START     the call's first channel: start time; with context hotline-inbound, the
                   dialled number in exten
    APP_START      Queue hold-<skill> (queued, skill), Queue hotline-overflow (overflowed),
                   Dial from the caller's side (an offer to an agent), AGI (the IVR ran),
                   UserEvent raised by the dialplan (HotlineIvrFailed, HotlineFallback,
                   HotlineCallbackRequest, HotlineOfferFailed; HotlineIvrStep/Result when
                   Asterisk logs them: an AGI's EXEC UserEvent is not always logged)
    BRIDGE_ENTER   the caller's side bridged with another channel: an agent answered; its
                   extension from that channel's name (extension_of)
    BRIDGE_EXIT    talk time ends
    HANGUP         the caller's hangup cause (extra: {"hangupcause": 16, ...})
    LINKEDID_END   the call is over: its end time; no LINKEDID_END, no record
Caller id comes from the call's first channel (the caller), else any of the caller's
side. Must be kept in sync with cel.conf (events, apps) and with the dialplan
(deploy/asterisk/extensions.conf: context names, UserEvent names and headers).
What CEL cannot say (the IVR path and facts, customer, tier, hold time) stays unknown;
the call log keeps what it already had (cti/calllog/upsert.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from cti.events import (
    USER_CALLBACK,
    USER_IVR_FAILED,
    USER_IVR_RESULT,
    USER_IVR_STEP,
    USER_OVERFLOW,
)
from cti.tracking.model import Call, extension_of
from cti.tracking.tracker import clean_caller_id, direction_of

USER_OFFER_FAILED = "HotlineOfferFailed"  # hotline-connect: the agent did not answer
IVR_CONTEXT = "hotline-ivr"  # deploy/asterisk/extensions.conf: where the AGI runs
OVERFLOW_QUEUE = "hotline-overflow"  # queues.conf: the static overflow group
DIALPLAN_HANGUP = "dialplan/builtin"  # HANGUP extra hangupsource: Hangup() in the dialplan
# What a caller's channel runs: these mark the caller's side of a call.
CALLER_APPS = frozenset({"agi", "queue", "dial", "userevent"})


@dataclass(frozen=True, slots=True)
class CelRow:
    """One row of the `cel` table (cel_pgsql's column names; cti/cel/store.py)."""

    id: int
    eventtype: str
    eventtime: float
    uniqueid: str
    linkedid: str
    channame: str = ""
    context: str = ""
    exten: str = ""
    cid_name: str = ""
    cid_num: str = ""
    appname: str = ""
    appdata: str = ""
    peer: str = ""
    extra: str = ""


class _Links:
    """Linkedids tied into calls: a channel whose Linkedid changed (bridged with an
    older call) ties its first and its new Linkedid into one call (union-find)."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}
        self._channel_call: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self._parent
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def add(self, row: CelRow) -> tuple[str, str] | None:
        """Takes a row (in time order); returns (absorbed, into) when it tied two calls."""
        into = self.find(row.linkedid)
        first = self._channel_call.setdefault(row.uniqueid, row.linkedid)
        if first == row.linkedid:
            return None
        absorbed = self.find(first)
        if absorbed == into:
            return None
        self._parent[absorbed] = into
        return absorbed, into


def _in_time_order(rows: Iterable[CelRow]) -> list[CelRow]:
    return sorted(rows, key=lambda r: (r.eventtime, r.id))


def group_by_call(rows: Iterable[CelRow]) -> dict[str, list[CelRow]]:
    """Rows per call. A channel whose Linkedid changed (bridged with an older call) ties
    both ids into one call, named by the Linkedid of its last row (the one that stayed,
    as the tracker's merge keeps it)."""
    links = _Links()
    ordered = _in_time_order(rows)
    for row in ordered:
        links.add(row)
    groups: dict[str, list[CelRow]] = {}
    for row in ordered:
        groups.setdefault(links.find(row.linkedid), []).append(row)
    return {group[-1].linkedid: group for group in groups.values()}


@dataclass
class _Span:
    first_id: int
    ended: bool
    last: tuple[float, int, str]  # (eventtime, id, Linkedid) of its latest row: its name


class CallSpans:
    """What the cursor needs of group_by_call, fed a batch of rows at a time (in key
    order) so that the rows are not kept: per call only its first row's key, whether it
    ended and its name. A pass over five minutes of a busy node's CEL held every row
    (tens of MB, a step in the process's RSS that never came back)."""

    def __init__(self) -> None:
        self._links = _Links()
        self._spans: dict[str, _Span] = {}

    def feed(self, rows: Iterable[CelRow]) -> None:
        spans = self._spans
        for row in _in_time_order(rows):
            tied = self._links.add(row)
            if tied is not None:
                absorbed, into = tied
                gone = spans.pop(absorbed, None)
                if gone is not None:
                    self._fold(into, gone.first_id, gone.ended, gone.last)
            root = self._links.find(row.linkedid)
            ended = row.eventtype == "LINKEDID_END"
            self._fold(root, row.id, ended, (row.eventtime, row.id, row.linkedid))

    def _fold(self, root: str, first_id: int, ended: bool, last: tuple[float, int, str]) -> None:
        span = self._spans.get(root)
        if span is None:
            self._spans[root] = _Span(first_id, ended, last)
            return
        span.first_id = min(span.first_id, first_id)
        span.ended = span.ended or ended
        span.last = max(span.last, last)

    def ended(self) -> dict[str, int]:
        """The calls that ended, by name: the key of each one's first row."""
        return {s.last[2]: s.first_id for s in self._spans.values() if s.ended}


def has_ended(rows: list[CelRow]) -> bool:
    return any(r.eventtype == "LINKEDID_END" for r in rows)


def started_in(rows: list[CelRow], call_id: str) -> bool:
    """Whether these rows hold the call's first channel starting (else the call began
    before them: they are only its tail)."""
    return any(r.eventtype == "CHAN_START" and r.uniqueid in (r.linkedid, call_id) for r in rows)


def call_from_cel(
    rows: list[CelRow],
    *,
    holding_queue_prefix: str = "hold-",
    inbound_context: str = "hotline-inbound",
) -> Call | None:
    """The ended call these rows describe (None while it has no LINKEDID_END)."""
    rows = sorted(rows, key=lambda r: (r.eventtime, r.id))
    ends = [r for r in rows if r.eventtype == "LINKEDID_END"]
    if not rows or not ends:
        return None
    call_id = ends[-1].linkedid
    call = Call(call_id=call_id, started_at=rows[0].eventtime, direction=direction_of(call_id))
    call.resynced = True
    root = next((r.uniqueid for r in rows if r.eventtype == "CHAN_START"), rows[0].uniqueid)
    caller_side = {root} | {
        r.uniqueid for r in rows if r.eventtype == "APP_START" and r.appname.lower() in CALLER_APPS
    }
    caller_names = {r.channame for r in rows if r.uniqueid in caller_side}
    _caller_id(call, rows, root, caller_side)
    call.dialed_number = next(
        (r.exten for r in rows if r.context == inbound_context and r.exten not in ("", "s")), ""
    )
    ivr_channels: set[str] = set()
    for row in rows:
        at = row.eventtime
        if row.eventtype == "APP_START":
            _on_app(call, row, at, holding_queue_prefix, ivr_channels)
        elif row.eventtype == "BRIDGE_ENTER":
            agent_channel = _agent_channel(row, caller_side, caller_names)
            if agent_channel:
                _answered(call, extension_of(agent_channel), at)
        elif row.eventtype == "BRIDGE_EXIT" and call.connected_since is not None:
            call.talk_seconds += max(0.0, at - call.connected_since)
            call.connected_since = None
        elif row.eventtype == "HANGUP" and row.uniqueid in caller_side:
            _on_hangup(call, row, root, ivr_channels)
    end = ends[-1].eventtime
    if call.connected_since is not None:
        call.talk_seconds += max(0.0, end - call.connected_since)
        call.connected_since = None
    if call.queued_at is not None and not call.agents and not call.callback_requested:
        call.abandoned_in_queue = True
    call.ended_at = end
    call.disposition = call.final_disposition()
    return call


# -- helpers -------------------------------------------------------------------------------


def _caller_id(call: Call, rows: list[CelRow], root: str, caller_side: set[str]) -> None:
    # Local-channel and some trunk callers carry their caller id only from the second
    # event on; the caller's own channel first, then the rest of the caller's side.
    for wanted in ({root}, caller_side):
        for row in rows:
            number = clean_caller_id(row.cid_num)
            if row.uniqueid in wanted and number:
                call.caller_number = number
                call.caller_name = clean_caller_id(row.cid_name)
                return


def _on_app(call: Call, row: CelRow, at: float, hold_prefix: str, ivr_channels: set[str]) -> None:
    app, args = row.appname.lower(), row.appdata.split(",")
    if app == "agi":
        ivr_channels.add(row.uniqueid)
    elif app == "queue":
        queue = args[0].strip()
        if queue == OVERFLOW_QUEUE:
            call.overflowed = True
        elif queue.startswith(hold_prefix):
            if call.queued_at is None:
                call.queued_at = at
            call.skill = call.skill or queue.removeprefix(hold_prefix)
            if ivr_channels and call.ivr_ended_at is None:
                call.ivr_ended_at = at
    elif app == "dial":
        call.offers += 1
        if call.offered_at is None:
            call.offered_at = at
        if ivr_channels and call.ivr_ended_at is None:
            call.ivr_ended_at = at  # pre-routed straight from the IVR to an agent
    elif app == "userevent":
        _on_user_event(call, row.appdata, at, hold_prefix)


def _on_user_event(call: Call, appdata: str, at: float, hold_prefix: str) -> None:
    # UserEvent(<name>,Key: value,Key: value): the dialplan's own arguments.
    name, *pairs = appdata.split(",")
    headers = {}
    for pair in pairs:
        key, _, value = pair.partition(":")
        headers[key.strip()] = value.strip()
    name = name.strip()
    if name == USER_IVR_STEP:
        call.ivr_path.append(headers.get("Node", ""))
    elif name == USER_IVR_RESULT:
        call.ivr_ended_at = call.ivr_ended_at or at
        call.ivr_outcome = headers.get("Outcome") or call.ivr_outcome
        call.skill = headers.get("Skill") or call.skill
        priority = headers.get("CallPriority", "")
        call.priority = int(priority) if priority.isdigit() else call.priority
        call.customer_id = headers.get("CustomerId") or call.customer_id
        call.tier = headers.get("Tier") or call.tier
        call.language = headers.get("CallLanguage") or call.language
    elif name == USER_IVR_FAILED:
        call.ivr_ended_at = call.ivr_ended_at or at
        call.ivr_outcome = "backend_away"
        call.skill = headers.get("Queue", "").removeprefix(hold_prefix) or call.skill
        call.priority = 0
    elif name == USER_CALLBACK:
        call.callback_requested = True
    elif name == USER_OVERFLOW:
        call.overflowed = True
    elif name == USER_OFFER_FAILED:
        call.no_answers += 1


def _agent_channel(row: CelRow, caller_side: set[str], caller_names: set[str]) -> str:
    """The agent's channel if this BRIDGE_ENTER joins the caller with someone else."""
    peers = [p.strip() for p in row.peer.split(",") if p.strip()]
    if row.uniqueid in caller_side:
        return next((p for p in peers if p not in caller_names), "")
    if any(p in caller_names for p in peers):
        return row.channame
    return ""


def _answered(call: Call, ext: str, at: float) -> None:
    if call.connected_since is not None:
        call.talk_seconds += max(0.0, at - call.connected_since)
    if call.answered_at is None:
        call.answered_at = at
        call.agent = ext
    elif call.agents and ext != call.agents[-1]:
        call.transfers += 1
    if ext not in call.agents:
        call.agents.append(ext)
    call.connected_since = at


def _on_hangup(call: Call, row: CelRow, root: str, ivr_channels: set[str]) -> None:
    try:
        extra = json.loads(row.extra) if row.extra else {}
    except ValueError:
        extra = {}
    if not isinstance(extra, dict):
        extra = {}
    cause = extra.get("hangupcause")
    if cause is not None and (row.uniqueid == root or call.hangup_cause is None):
        call.hangup_cause = str(cause)
    # The IVR served the caller and the dialplan hung up (hotline-ivr "served"), rather
    # than the caller hanging up in the menu.
    if (
        row.uniqueid in ivr_channels
        and row.context == IVR_CONTEXT
        and extra.get("hangupsource") == DIALPLAN_HANGUP
        and call.queued_at is None
        and call.ivr_outcome is None
    ):
        call.ivr_outcome = "self_service"
