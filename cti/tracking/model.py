"""The call aggregate the tracker keeps per Linkedid. Plain data, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from kernel.calls import Direction, Disposition

_EXTENSION = re.compile(r"^[A-Za-z0-9]+/([^@\-/;]+)")


def extension_of(channel: str) -> str:
    """'PJSIP/1001-0000000a' -> '1001'; 'Local/1001@hotline-test-agent-00000003;1' -> '1001'."""
    m = _EXTENSION.match(channel)
    return m.group(1) if m else channel


@dataclass(slots=True)
class Leg:
    uniqueid: str
    channel: str
    role: str = "other"  # caller | agent | other
    agent: str | None = None


@dataclass(slots=True)
class Call:
    call_id: str
    started_at: float
    direction: Direction = Direction.INBOUND
    seq: int = 0
    caller_number: str = ""
    caller_name: str = ""
    dialed_number: str = ""
    ivr_path: list[str] = field(default_factory=list)
    ivr_outcome: str | None = None
    ivr_facts: str = ""  # what self-service told the caller, e.g. "balance=-312.40;notices=1"
    ivr_ended_at: float | None = None
    skill: str | None = None
    priority: int | None = None
    customer_id: str | None = None
    tier: str | None = None
    language: str | None = None
    queued_at: float | None = None
    offered_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    agent: str | None = None  # extension of the first agent who answered
    agents: list[str] = field(default_factory=list)  # every agent who answered, in order
    offers: int = 0
    no_answers: int = 0
    transfers: int = 0
    hold_seconds: float = 0.0
    talk_seconds: float = 0.0
    callback_requested: bool = False
    overflowed: bool = False
    abandoned_in_queue: bool = False
    hangup_cause: str | None = None
    hangup_cause_txt: str | None = None
    disposition: Disposition = Disposition.IN_PROGRESS
    resynced: bool = False
    # live bookkeeping
    legs: dict[str, Leg] = field(default_factory=dict)
    connected_since: float | None = None
    hold_since: float | None = None
    answered_legs: set[str] = field(default_factory=set)
    transfer_pending: bool = False
    agent_talk: dict[str, float] = field(default_factory=dict)  # extension -> seconds
    on_line: dict[str, float] = field(default_factory=dict)  # agents talking now -> since
    conference: bool = False
    outbound_agent: str | None = None  # click-to-dial: the agent who placed the call

    @property
    def wait_seconds(self) -> float:
        if self.queued_at is None:
            return 0.0
        until = self.answered_at or self.ended_at
        return max(0.0, until - self.queued_at) if until is not None else 0.0

    def snapshot(self) -> dict[str, Any]:
        """The call as downstream consumers see it (JSON-ready, epoch seconds)."""
        return {
            "call_id": self.call_id,
            "direction": self.direction.value,
            "caller_number": self.caller_number,
            "caller_name": self.caller_name,
            "dialed_number": self.dialed_number,
            "started_at": self.started_at,
            "ivr_ended_at": self.ivr_ended_at,
            "queued_at": self.queued_at,
            "offered_at": self.offered_at,
            "answered_at": self.answered_at,
            "ended_at": self.ended_at,
            "ivr_path": list(self.ivr_path),
            "ivr_outcome": self.ivr_outcome,
            "ivr_facts": self.ivr_facts,
            "skill": self.skill,
            "priority": self.priority,
            "customer_id": self.customer_id,
            "tier": self.tier,
            "language": self.language,
            "agent": self.agent,
            "agents": list(self.agents),
            "offers": self.offers,
            "no_answers": self.no_answers,
            "transfers": self.transfers,
            # closed talk segments per agent (a segment still open counts when it ends)
            "agent_talk": {ext: round(s, 3) for ext, s in self.agent_talk.items()},
            "conference": self.conference,
            "wait_seconds": round(self.wait_seconds, 3),
            "talk_seconds": round(self.talk_seconds, 3),
            "hold_seconds": round(self.hold_seconds, 3),
            "callback_requested": self.callback_requested,
            "overflowed": self.overflowed,
            "hangup_cause": self.hangup_cause,
            "hangup_cause_txt": self.hangup_cause_txt,
            "disposition": self.disposition.value,
            "resynced": self.resynced,
        }

    def agent_on(self, ext: str, at: float) -> None:
        self.on_line.setdefault(ext, at)
        self.agent_talk.setdefault(ext, 0.0)

    def agent_off(self, ext: str, at: float) -> None:
        since = self.on_line.pop(ext, None)
        if since is not None:
            self.agent_talk[ext] = self.agent_talk.get(ext, 0.0) + max(0.0, at - since)

    def all_off(self, at: float) -> None:
        for ext in list(self.on_line):
            self.agent_off(ext, at)

    def final_disposition(self) -> Disposition:
        if self.agents:
            return Disposition.ANSWERED
        if self.callback_requested:
            return Disposition.CALLBACK_REQUESTED
        if self.overflowed:
            return Disposition.OVERFLOWED
        if self.queued_at is not None:
            return Disposition.ABANDONED_QUEUE
        if self.ivr_outcome == "self_service":
            return Disposition.SELF_SERVICE
        if self.direction is not Direction.INBOUND:
            return Disposition.FAILED  # the customer never got an agent on the line
        if not self.ivr_path and self.ivr_outcome is None and self.hangup_cause in _FAILURES:
            return Disposition.FAILED
        return Disposition.ABANDONED_IVR


# Q.850 causes meaning the call could not be set up at all (not a caller hanging up).
_FAILURES = {"1", "3", "17", "18", "19", "21", "27", "34", "38", "41", "42", "44", "58"}
