"""Agents as the live view sees them: state, time in it, skills, and today's time per
state for occupancy. Pure.

Input: "agent" bus events ({"type": "agent.state", "agent_id", "extension", "state",
"reason", "at"}: routing/pbx/dispatcher.py, desk/agent_state/memory.py) and, after a
restart, today's agent_state_history stretches. Occupancy follows reports/metrics.py:
busy (on_call + wrap_up) ÷ logged-in time (every state but logged_out), time clipped to
the local day, via `state_aggregates`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reports.metrics import LOGGED_OUT, Aggregates, state_aggregates


@dataclass(slots=True)
class AgentEntry:
    agent_id: int
    extension: str | None = None
    name: str | None = None
    state: str = LOGGED_OUT
    reason: str | None = None
    since: float = 0.0  # epoch seconds
    skills: dict[str, int] = field(default_factory=dict)
    day: Aggregates = field(default_factory=Aggregates)  # closed stretches of today

    def occupancy_sums(self, now: float, day_start: float) -> Aggregates:
        """Today's busy / logged-in seconds including the stretch in progress."""
        start = max(self.since, day_start)
        if now <= start:
            return self.day
        return self.day + state_aggregates(self.state, now - start)


@dataclass(frozen=True, slots=True)
class Stretch:
    """One agent_state_history row (epoch seconds; ended None = the current state)."""

    agent_id: int
    state: str
    reason: str | None
    started: float
    ended: float | None


class AgentBoard:
    def __init__(self, day_start: float) -> None:
        self.day_start = day_start
        self.agents: dict[int, AgentEntry] = {}

    def agent(self, agent_id: int) -> AgentEntry:
        entry = self.agents.get(agent_id)
        if entry is None:
            entry = self.agents[agent_id] = AgentEntry(agent_id)
        return entry

    def describe(
        self, agent_id: int, *, extension: str | None, name: str | None, skills: Mapping[str, int]
    ) -> None:
        entry = self.agent(agent_id)
        entry.extension = extension or entry.extension
        entry.name = name or entry.name
        entry.skills = dict(skills)

    def load(self, stretches: Iterable[Stretch], now: float) -> None:
        """Today's history (any order): closed stretches add up, the open one is the state."""
        for s in sorted(stretches, key=lambda s: s.started):
            entry = self.agent(s.agent_id)
            if s.ended is None:
                entry.state, entry.reason, entry.since = s.state, s.reason, s.started
                continue
            start, end = max(s.started, self.day_start), min(s.ended, now)
            if end > start:
                entry.day = entry.day + state_aggregates(s.state, end - start)

    def apply(self, event: Mapping[str, Any]) -> bool:
        if event.get("type") != "agent.state":
            return False
        try:
            agent_id = int(event["agent_id"])
            at = float(event.get("at") or 0)
        except (KeyError, TypeError, ValueError):
            return False
        entry = self.agent(agent_id)
        if at < entry.since:
            return False  # older than what we know
        self._close(entry, at)
        entry.state = str(event.get("state") or LOGGED_OUT)
        entry.reason = event.get("reason") or None
        entry.since = at
        if event.get("extension"):
            entry.extension = str(event["extension"])
        return True

    def _close(self, entry: AgentEntry, at: float) -> None:
        start = max(entry.since, self.day_start)
        if entry.since and at > start:
            entry.day = entry.day + state_aggregates(entry.state, at - start)

    def roll_over(self, day_start: float) -> None:
        """A new local day: yesterday's time goes; the current stretch counts from midnight."""
        for entry in self.agents.values():
            entry.day = Aggregates()
        self.day_start = day_start

    def by_extension(self) -> dict[str, AgentEntry]:
        return {a.extension: a for a in self.agents.values() if a.extension}

    def serving(self, skill: str) -> list[AgentEntry]:
        return [a for a in self.agents.values() if skill in a.skills]
