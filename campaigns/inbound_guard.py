"""Inbound first, pure: may an agent campaign place a new call now?

A campaign call takes an agent away from inbound callers for a whole conversation, so
(campaigns.inbound_first) none is placed while an inbound queue its agents serve is
under its service-level target (config queues[].service_level):

- an inbound caller waits there: a freed agent takes the caller, never a new contact;
- the longest-waiting inbound caller has waited longer than the target's seconds;
- the live service level (answered within the target / answered, since the router
  started) is under the target's percent, once at least `min_answered` calls were
  answered (a level over fewer calls says nothing).

Without inbound_first only the first rule holds (an inbound caller on the line always
goes before a campaign, whose priority is below every tier; emergencies are inbound
callers too). The figures come from the router (routing/pbx/campaign_calls.py
inbound_view); this module only decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MIN_ANSWERED = 5


@dataclass(frozen=True)
class InboundQueue:
    name: str
    sl_seconds: float
    sl_percent: float
    waiting: int = 0
    oldest_wait: float | None = None  # seconds the longest-waiting inbound caller waited
    answered: int = 0
    answered_in_sl: int = 0

    @classmethod
    def of(cls, view: Mapping[str, Any]) -> InboundQueue:
        oldest = view.get("oldest_wait")
        return cls(
            name=str(view["name"]),
            sl_seconds=float(view["sl_seconds"]),
            sl_percent=float(view["sl_percent"]),
            waiting=int(view.get("waiting") or 0),
            oldest_wait=None if oldest is None else float(oldest),
            answered=int(view.get("answered") or 0),
            answered_in_sl=int(view.get("answered_in_sl") or 0),
        )

    @property
    def level(self) -> float | None:
        """The live service level in percent; None before any answer."""
        if self.answered <= 0:
            return None
        return 100.0 * self.answered_in_sl / self.answered


@dataclass(frozen=True)
class Verdict:
    may_place: bool
    reason: str  # "ok", "no_agent", "inbound_waiting:<q>", "over_wait:<q>", "under_level:<q>"


def verdict(
    free_agents: int,
    queues: Iterable[InboundQueue],
    *,
    inbound_first: bool = True,
    min_answered: int = MIN_ANSWERED,
) -> Verdict:
    """Whether a new campaign call may be placed with `free_agents` agents free now."""
    for q in queues:
        if q.waiting > 0:
            return Verdict(False, f"inbound_waiting:{q.name}")
        if not inbound_first:
            continue
        if q.oldest_wait is not None and q.oldest_wait > q.sl_seconds:
            return Verdict(False, f"over_wait:{q.name}")
        level = q.level
        if level is not None and q.answered >= min_answered and level < q.sl_percent:
            return Verdict(False, f"under_level:{q.name}")
    if free_agents <= 0:
        return Verdict(False, "no_agent")
    return Verdict(True, "ok")


def under_target(q: InboundQueue, *, min_answered: int = MIN_ANSWERED) -> bool:
    """The queue is under its service-level target (the live view may show it)."""
    if q.oldest_wait is not None and q.oldest_wait > q.sl_seconds:
        return True
    level = q.level
    return level is not None and q.answered >= min_answered and level < q.sl_percent
