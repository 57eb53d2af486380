"""Deadlines of the routing core (step timeouts, ageing rises, wrap-up ends) in one
heap. Pure.

Re-scheduling or cancelling is O(1): the newest token per (kind, key) wins, older heap
entries are skipped when they surface. Due entries come out by (time, kind, tie-break),
so timers falling on the same instant are handled in the same order on every run: a
call's step and priority are up to date before an agent whose wrap-up ends at that same
instant chooses among the calls.
"""

from __future__ import annotations

import heapq
from typing import Any

STEP = 0  # a waiting call reaches its next step (or overflow): before agents free up
AGE = 1  # a waiting call's priority rises (routing/core/ageing.py)
WRAP = 2  # an agent's wrap-up time is over


class Timers:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Any, int, Any]] = []
        self._live: dict[tuple[int, Any], int] = {}
        self._tokens = 0

    def schedule(self, when: float, kind: int, key: Any, tiebreak: Any) -> None:
        self._tokens += 1
        self._live[(kind, key)] = self._tokens
        heapq.heappush(self._heap, (when, kind, tiebreak, self._tokens, key))
        if len(self._heap) > 4 * len(self._live) + 64:
            self._compact()

    def cancel(self, kind: int, key: Any) -> None:
        self._live.pop((kind, key), None)

    def _valid(self, entry: tuple[float, int, Any, int, Any]) -> bool:
        return self._live.get((entry[1], entry[4])) == entry[3]

    def next_deadline(self) -> float | None:
        heap = self._heap
        while heap and not self._valid(heap[0]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_due(self, now: float) -> tuple[float, int, Any] | None:
        """The earliest valid deadline at or before `now`, removed; else None."""
        when = self.next_deadline()
        if when is None or when > now:
            return None
        entry = heapq.heappop(self._heap)
        del self._live[(entry[1], entry[4])]
        return entry[0], entry[1], entry[4]

    def _compact(self) -> None:
        self._heap = [e for e in self._heap if self._valid(e)]
        heapq.heapify(self._heap)
