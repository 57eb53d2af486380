"""Raw AMI events -> call aggregates keyed by Linkedid -> domain events. Pure.

`CallTracker.handle(frame)` returns the domain events that frame caused (often none).
Handlers are registered in one table that reads like a routing map. The tracker never
does I/O; the bridge (cti/bridge.py) feeds it and publishes what it returns.

Times come from the frame's `Timestamp` header (manager.conf timestampevents=yes) so a
replayed trace gives the same durations; the clock is only a fallback.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cti.ami.frames import Frame
from cti.events import (
    CONSULT_CONTEXT,
    JOINING_PREFIXES,
    ORIGINATE_PREFIXES,
    OUTBOUND_CONTEXT,
    TRANSFER_CONTEXT,
    USER_CALLBACK,
    USER_CONFERENCE,
    USER_CONSULT,
    USER_HOLD,
    USER_IVR_FAILED,
    USER_IVR_RESULT,
    USER_IVR_STEP,
    USER_OFFER,
    USER_OUTBOUND,
    USER_OVERFLOW,
    USER_TRANSFER,
    CallEventType,
)
from cti.sequence import compose, next_generation
from cti.tracking.model import Call, Leg, extension_of
from kernel.calls import Direction
from kernel.config.pbx import INTERNODE_ENDPOINT_PREFIX

DomainEvent = dict[str, Any]
FOREIGN_CHANNEL_PREFIX = f"PJSIP/{INTERNODE_ENDPOINT_PREFIX}"
_NO_ANSWER = {"NOANSWER", "BUSY", "CHANUNAVAIL", "CONGESTION"}
ENDED_CALLS_KEPT = 2_000  # recently ended calls kept to absorb late/duplicate events


class CallTracker:
    """`holding_queue_prefix` and `inbound_context` come from the dialplan contract."""

    def __init__(
        self,
        *,
        holding_queue_prefix: str = "hold-",
        inbound_context: str = "hotline-inbound",
        clock: Callable[[], float] = time.time,
        foreign_channel_prefix: str = FOREIGN_CHANNEL_PREFIX,
    ) -> None:
        self.calls: dict[str, Call] = {}
        # A call another Asterisk node sends here (its offer to an agent of this node)
        # begins with a channel of the inter-node trunk: that node's bridge logs the
        # call, so this one ignores it (else one call would be two records).
        self._foreign = foreign_channel_prefix
        self.leg_index: dict[str, str] = {}  # uniqueid -> call_id
        self._ended: dict[str, None] = {}  # ordered set of recently ended call ids
        self._hold_prefix = holding_queue_prefix
        self._inbound_context = inbound_context
        self._clock = clock
        # Bridge session (cti/sequence.py): 0 until the bridge begins one, so replayed
        # traces number a call's events 1, 2, 3...
        self.generation = 0
        self._side_events: list[DomainEvent] = []  # merges noticed while handling a frame
        self._handlers: dict[str, Callable[[Frame, float], list[DomainEvent]]] = {
            "Newchannel": self._on_newchannel,
            "NewCallerid": self._on_callerid,
            "Hangup": self._on_hangup,
            "UserEvent": self._on_user_event,
            "QueueCallerJoin": self._on_queue_join,
            "QueueCallerAbandon": self._on_queue_abandon,
            "DialBegin": self._on_dial_begin,
            "DialEnd": self._on_dial_end,
            "AgentCalled": self._on_agent_called,
            "AgentConnect": self._on_agent_connect,
            "AgentRingNoAnswer": self._on_agent_ring_no_answer,
            "Hold": self._on_hold,
            "Unhold": self._on_unhold,
            "BlindTransfer": self._on_transfer,
            "AttendedTransfer": self._on_transfer,
        }
        # Call control from the desk (callcontrol/): the dialplan's UserEvents.
        self._control_events: dict[str, Callable[[Call, Frame, float], list[DomainEvent]]] = {
            USER_HOLD: self._on_control_hold,
            USER_TRANSFER: self._on_control_transfer,
            USER_CONSULT: self._on_consult,
            USER_CONFERENCE: self._conference_joined,
            USER_OUTBOUND: self._on_outbound,
        }

    def begin_session(self, now: float) -> int:
        """A new bridge session (every AMI login): its events number above every event
        of earlier sessions, in this process or another one (cti/sequence.py)."""
        self.generation = next_generation(self.generation, now)
        return self.generation

    def knows(self, call_id: str) -> bool:
        """Whether this tracker follows the call, or saw it end not long ago."""
        return call_id in self.calls or call_id in self._ended

    def next_seq(self, call: Call) -> int:
        call.seq += 1
        return compose(self.generation, call.seq)

    @property
    def wanted_events(self) -> set[str]:
        """Event names worth parsing at all (the frame parser skips the rest)."""
        return set(self._handlers) | {"FullyBooted", "Shutdown"}

    def handle(self, frame: Frame) -> list[DomainEvent]:
        handler = self._handlers.get(frame.get("Event", ""))
        if handler is None:
            return []
        at = _timestamp(frame) or self._clock()
        self._side_events = []
        self._fill_caller_id(frame)
        try:
            events = handler(frame, at)
        except (KeyError, ValueError, TypeError):
            events = []  # a malformed frame must not take other calls down
        if self._side_events:
            events = self._side_events + events
        return events

    # -- helpers ---------------------------------------------------------------

    def _fill_caller_id(self, f: Frame) -> None:
        # A Local-channel or trunk caller may get its caller id after Newchannel
        # (NewCallerid, or just the next event of its leg): take the first real one.
        call_id = self.leg_index.get(f.get("Uniqueid", ""))
        if call_id is None:
            return
        call = self.calls.get(call_id)
        if call is None or call.caller_number:
            return
        number = clean_caller_id(f.get("CallerIDNum"))
        if number:
            call.caller_number = number
            call.caller_name = clean_caller_id(f.get("CallerIDName")) or call.caller_name

    def _call_of(self, frame: Frame, at: float) -> Call | None:
        """The live call a frame belongs to, merging calls whose Linkedid changed."""
        uniqueid = frame.get("Uniqueid", "")
        linkedid = frame.get("Linkedid", "")
        call_id = self.leg_index.get(uniqueid)
        if call_id is None:
            call = self.calls.get(linkedid)
            return call
        call = self.calls.get(call_id)
        if call is not None and linkedid and linkedid != call_id and linkedid in self.calls:
            self._side_events.append(self._merge(into=self.calls[linkedid], other=call, at=at))
            return self.calls[linkedid]
        return call

    def _event(self, call: Call, kind: CallEventType, at: float, **extra: Any) -> DomainEvent:
        seq = self.next_seq(call)
        event: DomainEvent = {"type": kind.value, "call_id": call.call_id, "seq": seq}
        event["at"] = at
        event.update(extra)
        event["call"] = call.snapshot()
        return event

    def _merge(self, *, into: Call, other: Call, at: float) -> DomainEvent:
        # Asterisk gives bridged channels the oldest Linkedid: the younger call's legs
        # now belong to the older one; its history is folded in, it ends as merged.
        for uniqueid, leg in other.legs.items():
            into.legs[uniqueid] = leg
            self.leg_index[uniqueid] = into.call_id
        into.ivr_path += [p for p in other.ivr_path if p not in into.ivr_path]
        for agent in other.agents:
            if agent not in into.agents:
                into.agents.append(agent)
        into.agent = into.agent or other.agent
        into.transfers += other.transfers
        del self.calls[other.call_id]
        self._remember_ended(other.call_id)
        return self._event(into, CallEventType.MERGED, at, merged_call_id=other.call_id)

    def _remember_ended(self, call_id: str) -> None:
        self._ended[call_id] = None
        if len(self._ended) > ENDED_CALLS_KEPT:
            self._ended.pop(next(iter(self._ended)))

    # -- channel lifecycle -----------------------------------------------------

    def _on_newchannel(self, f: Frame, at: float) -> list[DomainEvent]:
        uniqueid, linkedid = f["Uniqueid"], f.get("Linkedid") or f["Uniqueid"]
        if not uniqueid or uniqueid in self.leg_index or linkedid in self._ended:
            return []
        call = self.calls.get(linkedid)
        events: list[DomainEvent] = []
        if call is None and (
            f.get("Channel", "").startswith(self._foreign) or linkedid.startswith(JOINING_PREFIXES)
        ):
            self._remember_ended(linkedid)  # every later leg of it is ignored too
            return []
        if call is None:
            call = Call(call_id=linkedid, started_at=at)
            call.direction = direction_of(uniqueid)
            call.caller_number = clean_caller_id(f.get("CallerIDNum"))
            call.caller_name = clean_caller_id(f.get("CallerIDName"))
            self.calls[linkedid] = call
            role = "caller"
            events.append(self._event(call, CallEventType.STARTED, at))
        else:
            role = "other"
        call.legs[uniqueid] = Leg(uniqueid, f.get("Channel", ""), role)
        self.leg_index[uniqueid] = linkedid
        if f.get("Context") == self._inbound_context and not call.dialed_number:
            call.dialed_number = f.get("Exten", "")
        if not call.caller_number:
            call.caller_number = clean_caller_id(f.get("CallerIDNum"))
            call.caller_name = call.caller_name or clean_caller_id(f.get("CallerIDName"))
        return events

    def _on_callerid(self, f: Frame, at: float) -> list[DomainEvent]:
        call = self._call_of(f, at)
        if call is not None:
            leg = call.legs.get(f.get("Uniqueid", ""))
            if leg is not None and leg.role == "caller":
                call.caller_number = clean_caller_id(f.get("CallerIDNum")) or call.caller_number
                call.caller_name = clean_caller_id(f.get("CallerIDName")) or call.caller_name
        return []

    def _on_hangup(self, f: Frame, at: float) -> list[DomainEvent]:
        uniqueid = f.get("Uniqueid", "")
        call = self._call_of(f, at)
        if call is None or uniqueid not in call.legs:
            return []
        leg = call.legs.pop(uniqueid)
        del self.leg_index[uniqueid]
        cause, cause_txt = f.get("Cause"), f.get("Cause-txt")
        if leg.role == "caller" or call.hangup_cause is None:
            call.hangup_cause, call.hangup_cause_txt = cause, cause_txt
        events: list[DomainEvent] = []
        if leg.role == "agent" and uniqueid in call.answered_legs and leg.agent in call.on_line:
            # An agent who left (a transferred agent, one of a conference) stops the
            # call's talk time only when nobody else talks with the caller.
            call.agent_off(leg.agent, at)
            if not call.on_line:
                self._stop_talk(call, at)
        if not call.legs:
            events.append(self.end_call(call, at))
        return events

    def end_call(self, call: Call, at: float) -> DomainEvent:
        if call.hold_since is not None:
            call.hold_seconds += at - call.hold_since
            call.hold_since = None
        if call.connected_since is not None:
            self._stop_talk(call, at)
        if call.queued_at is not None and not call.agents and not call.callback_requested:
            call.abandoned_in_queue = True
        call.ended_at = at
        call.disposition = call.final_disposition()
        for uniqueid in list(call.legs):
            self.leg_index.pop(uniqueid, None)
        call.legs.clear()
        del self.calls[call.call_id]
        self._remember_ended(call.call_id)
        return self._event(call, CallEventType.ENDED, at)

    # -- IVR and dialplan signals ----------------------------------------------

    def _on_user_event(self, f: Frame, at: float) -> list[DomainEvent]:
        call = self._call_of(f, at)
        if call is None:
            if f.get("UserEvent") == USER_CONFERENCE and f.get("Call") in self.calls:
                return self._conference_joined(self.calls[f["Call"]], f, at)
            return []
        name = f.get("UserEvent", "")
        if name == USER_IVR_STEP:
            node = f.get("Node", "")
            call.ivr_path.append(node)
            return [
                self._event(call, CallEventType.IVR_STEP, at, node=node, input=f.get("Input", ""))
            ]
        if name == USER_IVR_RESULT:
            call.ivr_ended_at = at
            call.ivr_outcome = f.get("Outcome") or None
            call.skill = f.get("Skill") or call.skill
            call.priority = _int(f.get("CallPriority"), call.priority)
            call.customer_id = f.get("CustomerId") or None
            call.tier = f.get("Tier") or None
            call.language = f.get("CallLanguage") or None
            call.ivr_facts = f.get("Facts") or call.ivr_facts
            if f.get("Path") and not call.ivr_path:
                call.ivr_path = f["Path"].split("/")
            return [self._event(call, CallEventType.IVR_COMPLETED, at)]
        if name == USER_IVR_FAILED:
            # The dialplan sent the caller to the default queue without the IVR.
            call.ivr_ended_at = at
            call.ivr_outcome = "backend_away"
            call.skill = f.get("Queue", "").removeprefix(self._hold_prefix) or call.skill
            call.priority = 0
            return [self._event(call, CallEventType.IVR_COMPLETED, at)]
        if name == USER_CALLBACK:
            call.callback_requested = True
            return [
                self._event(call, CallEventType.CALLBACK_REQUESTED, at, number=f.get("Number", ""))
            ]
        if name == USER_OVERFLOW:
            call.overflowed = True
            return [self._event(call, CallEventType.OVERFLOWED, at, reason=f.get("Reason", ""))]
        if name == USER_OFFER:
            return self._offer(call, at, f.get("Extension", ""), f.get("Agent"))
        control = self._control_events.get(name)
        return control(call, f, at) if control is not None else []

    # -- queues and agents -----------------------------------------------------

    def _on_queue_join(self, f: Frame, at: float) -> list[DomainEvent]:
        call = self._call_of(f, at)
        if call is None:
            return []
        queue = f.get("Queue", "")
        skill = queue.removeprefix(self._hold_prefix)
        if call.queued_at is None:
            call.queued_at = at
        call.skill = call.skill or skill
        # channel/uniqueid: the waiting leg, which the router redirects to an agent.
        return [
            self._event(
                call,
                CallEventType.QUEUED,
                at,
                queue=queue,
                position=_int(f.get("Position"), 0),
                channel=f.get("Channel", ""),
                uniqueid=f.get("Uniqueid", ""),
            )
        ]

    def _on_queue_abandon(self, f: Frame, at: float) -> list[DomainEvent]:
        call = self._call_of(f, at)
        if call is not None:
            call.abandoned_in_queue = True
        return []

    def _offer(self, call: Call, at: float, extension: str, agent: str | None) -> list[DomainEvent]:
        call.offers += 1
        if call.offered_at is None:
            call.offered_at = at
        return [self._event(call, CallEventType.OFFERED, at, agent=extension, agent_id=agent)]

    def _on_dial_begin(self, f: Frame, at: float) -> list[DomainEvent]:
        # Only a channel of a tracked call dialling someone is an offer; Originate's own
        # dial has no calling channel (no Uniqueid) and is not an agent being offered.
        if f.get("Uniqueid", "") not in self.leg_index:
            return []
        call = self._call_of(f, at)
        dest = f.get("DestUniqueid", "")
        if call is None or not dest:
            return []
        ext = self._dialled(f)
        leg = call.legs.get(dest)
        if leg is None:
            leg = call.legs[dest] = Leg(dest, f.get("DestChannel", ""))
            self.leg_index[dest] = call.call_id
        context = f.get("Context", "")
        if context == OUTBOUND_CONTEXT:
            leg.role = "customer"  # click-to-dial: the agent's phone dials the customer
            return []
        if context == CONSULT_CONTEXT:
            leg.role, leg.agent = "consult", ext  # not an offer: the agent asks first
            return []
        if context == TRANSFER_CONTEXT:
            leg.role = "outside"  # a blind transfer to an outside number
            return []
        leg.role, leg.agent = "agent", ext
        return self._offer(call, at, ext, None)

    def _dialled(self, f: Frame) -> str:
        """The agent a dial reaches: its channel's extension, or, through the inter-node
        trunk (PJSIP/hotline-node-b-0000002a), the user of the dial string
        ("1005@hotline-node-b")."""
        channel = f.get("DestChannel", "")
        if channel.startswith(self._foreign):
            user, at, _ = f.get("DialString", "").partition("@")
            if at and user:
                return user
        return extension_of(channel)

    def _on_dial_end(self, f: Frame, at: float) -> list[DomainEvent]:
        if f.get("Uniqueid", "") not in self.leg_index:
            return []
        call = self._call_of(f, at)
        dest = f.get("DestUniqueid", "")
        if call is None or not dest:
            return []
        status = f.get("DialStatus", "")
        leg = call.legs.get(dest)
        if leg is not None and leg.role in ("consult", "outside"):
            return []
        if leg is not None and leg.role == "customer":
            root = f.get("Uniqueid", "")
            if status == "ANSWER" and call.outbound_agent and root in call.legs:
                call.legs[root].role, call.legs[root].agent = "agent", call.outbound_agent
                return self._answered(call, at, root, call.outbound_agent)
            return []
        ext = leg.agent if leg is not None and leg.agent else self._dialled(f)
        if status == "ANSWER":
            return self._answered(call, at, dest, ext)
        if status in _NO_ANSWER:
            call.no_answers += 1
            return [self._event(call, CallEventType.AGENT_NO_ANSWER, at, agent=ext, status=status)]
        return []

    def _on_agent_called(self, f: Frame, at: float) -> list[DomainEvent]:
        call = self._call_of(f, at)
        if call is None:
            return []
        return self._offer(
            call, at, extension_of(f.get("Interface") or f.get("DestChannel", "")), None
        )

    def _on_agent_connect(self, f: Frame, at: float) -> list[DomainEvent]:
        call = self._call_of(f, at)
        if call is None:
            return []
        dest = f.get("DestUniqueid", "") or f.get("Interface", "")
        return self._answered(
            call, at, dest, extension_of(f.get("Interface") or f.get("DestChannel", ""))
        )

    def _on_agent_ring_no_answer(self, f: Frame, at: float) -> list[DomainEvent]:
        call = self._call_of(f, at)
        if call is None:
            return []
        call.no_answers += 1
        ext = extension_of(f.get("Interface") or f.get("DestChannel", ""))
        return [
            self._event(call, CallEventType.AGENT_NO_ANSWER, at, agent=ext, status="RINGNOANSWER")
        ]

    def _answered(self, call: Call, at: float, leg_id: str, ext: str) -> list[DomainEvent]:
        if leg_id in call.answered_legs:
            return []  # app_queue reports both DialEnd and AgentConnect
        call.answered_legs.add(leg_id)
        events: list[DomainEvent] = []
        if call.agents and ext != call.agents[-1] and not call.transfer_pending:
            # A second agent without a transfer event: the router moved the caller.
            call.transfers += 1
            events.append(
                self._event(
                    call, CallEventType.TRANSFERRED, at, to_agent=ext, transfer_kind="redirect"
                )
            )
        call.transfer_pending = False
        if call.connected_since is not None:
            self._stop_talk(call, at)
        if call.answered_at is None:
            call.answered_at = at
            call.agent = ext
        if ext not in call.agents:
            call.agents.append(ext)
        call.connected_since = at
        call.agent_on(ext, at)
        events.append(self._event(call, CallEventType.ANSWERED, at, agent=ext))
        return events

    def _stop_talk(self, call: Call, at: float) -> None:
        if call.connected_since is not None:
            call.talk_seconds += max(0.0, at - call.connected_since)
            call.connected_since = None
        call.all_off(at)

    # -- mid-call --------------------------------------------------------------

    def _on_hold(self, f: Frame, at: float) -> list[DomainEvent]:
        call = self._call_of(f, at)
        if call is None or call.hold_since is not None:
            return []
        call.hold_since = at
        self._stop_talk(call, at)
        return [self._event(call, CallEventType.HELD, at)]

    def _on_unhold(self, f: Frame, at: float) -> list[DomainEvent]:
        call = self._call_of(f, at)
        if call is None or call.hold_since is None:
            return []
        call.hold_seconds += at - call.hold_since
        call.hold_since = None
        if call.agents:
            call.connected_since = at
            call.agent_on(call.agents[-1], at)
        return [self._event(call, CallEventType.RESUMED, at)]

    def _on_transfer(self, f: Frame, at: float) -> list[DomainEvent]:
        ids = [
            f.get(k, "")
            for k in ("TransfererUniqueid", "OrigTransfererUniqueid", "TransfereeUniqueid")
        ]
        call = next((self.calls[self.leg_index[i]] for i in ids if i in self.leg_index), None)
        if call is None or f.get("Result", "Success") != "Success":
            return []
        call.transfers += 1
        call.transfer_pending = True
        kind = "blind" if f.get("Event") == "BlindTransfer" else "attended"
        target = f.get("Extension") or extension_of(f.get("SecondTransfererChannel", ""))
        return [
            self._event(call, CallEventType.TRANSFERRED, at, to_agent=target, transfer_kind=kind)
        ]

    # -- call control from the desk (callcontrol/, extensions.conf) -------------

    def _on_control_hold(self, call: Call, f: Frame, at: float) -> list[DomainEvent]:
        state = f.get("State", "")
        if state == "held":
            return self._on_hold(f, at)
        if state == "lost":
            # The held caller's agent went away: it goes back to its queue (a requeue
            # HotlineTransfer follows), the hold is over.
            if call.hold_since is not None:
                call.hold_seconds += at - call.hold_since
                call.hold_since = None
            return []
        if state != "resumed":
            return []
        if f.get("Transfer") != "attended" or not f.get("Peer"):
            return self._on_unhold(f, at)
        # Attended transfer completed: the caller talks with the consulted agent now.
        peer = f.get("Peer", "")
        ext = extension_of(peer)
        leg = next((g for g in call.legs.values() if g.channel == peer), None)
        if leg is not None:
            leg.role, leg.agent = "agent", ext
            call.answered_legs.add(leg.uniqueid)
        if call.hold_since is not None:
            call.hold_seconds += at - call.hold_since
            call.hold_since = None
        self._stop_talk(call, at)
        call.transfers += 1
        if ext not in call.agents:
            call.agents.append(ext)
        call.connected_since = at
        call.agent_on(ext, at)
        return [
            self._event(
                call, CallEventType.TRANSFERRED, at, to_agent=ext, transfer_kind="attended"
            ),
            self._event(call, CallEventType.RESUMED, at, agent=ext),
        ]

    def _on_control_transfer(self, call: Call, f: Frame, at: float) -> list[DomainEvent]:
        kind, target = f.get("Kind", ""), f.get("Target", "")
        self._stop_talk(call, at)
        if kind == "requeue":
            return []  # not a transfer: its agent went away while it was on hold
        call.transfers += 1
        call.transfer_pending = True
        return [
            self._event(call, CallEventType.TRANSFERRED, at, to_agent=target, transfer_kind=kind)
        ]

    def _on_consult(self, call: Call, f: Frame, at: float) -> list[DomainEvent]:
        return [
            self._event(
                call,
                CallEventType.CONSULTING,
                at,
                state=f.get("State", ""),
                target=extension_of(f.get("Target", "")),
                status=f.get("Status", ""),
            )
        ]

    def _conference_joined(self, call: Call, f: Frame, at: float) -> list[DomainEvent]:
        call.conference = True
        if f.get("Role") != "agent":
            return [self._event(call, CallEventType.CONFERENCE, at, state="started")]
        if not f.get("Call"):
            return []  # the call's own agent, moved in with the caller
        # A third person's phone, originated into the call's conference: a leg of it.
        uniqueid, channel = f.get("Uniqueid", ""), f.get("Channel", "")
        ext = extension_of(channel)
        if uniqueid and uniqueid not in call.legs:
            call.legs[uniqueid] = Leg(uniqueid, channel, "agent", ext)
            self.leg_index[uniqueid] = call.call_id
            call.answered_legs.add(uniqueid)
        if ext not in call.agents:
            call.agents.append(ext)
        if call.connected_since is None:
            call.connected_since = at
        call.agent_on(ext, at)
        return [self._event(call, CallEventType.CONFERENCE, at, state="joined", agent=ext)]

    def _on_outbound(self, call: Call, f: Frame, at: float) -> list[DomainEvent]:
        number = clean_caller_id(f.get("Number"))
        call.direction = Direction.OUTBOUND
        call.caller_number = number or call.caller_number
        call.dialed_number = number or call.dialed_number
        call.customer_id = f.get("CustomerId") or call.customer_id
        call.outbound_agent = f.get("Agent") or None
        return []


def _timestamp(frame: Frame) -> float | None:
    value = frame.get("Timestamp")
    if value:
        try:
            return float(value)
        except ValueError:
            return None
    return None


def direction_of(uniqueid: str) -> Direction:
    for prefix, direction in ORIGINATE_PREFIXES.items():
        if uniqueid.startswith(prefix):
            return direction
    return Direction.INBOUND


def clean_caller_id(value: str | None) -> str:
    # Asterisk writes "<unknown>" for an absent caller id.
    return "" if value in (None, "<unknown>") else value.strip()


def _int(value: str | None, default: Any) -> Any:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default
