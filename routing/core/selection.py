"""Who is best for whom, answered from indexes so each event costs little. Pure.

The policy (the same as routing/core/naive.py, which scans everything):
- best agent for a call at step k: among offerable agents that speak the call's language,
  did not refuse it and match a target of steps 0..k, the smallest
  (first matching step, -level for that step, idle since, agent id);
- best call for an agent: among waiting calls it may take (language, step, not refused),
  the smallest WaitingCall.order_key() across every queue it serves (global fairness).

Indexes: agent pools per (queue, first matching step, language) ordered by
(-level, idle since, id); call books per (queue, current step, language) ordered by the
call order key. Entries are invalidated lazily by version numbers; a heap is compacted
when stale entries outnumber live ones. A language key of None pools everybody (calls
without a language) / holds calls without a language.
"""

from __future__ import annotations

import heapq
from typing import Any, Protocol

from routing.core.model import Agent, WaitingCall
from routing.core.plan import RoutingPlan


class Selector(Protocol):
    def agent_changed(self, agent: Agent) -> None:
        """The agent's offerability, idle time, skills or languages changed."""

    def call_changed(self, call: WaitingCall) -> None:
        """The call started waiting, or its step/priority/head changed while waiting."""

    def best_agent_for(self, call: WaitingCall) -> Agent | None: ...

    def best_call_for(self, agent: Agent) -> WaitingCall | None: ...


class _Heap:
    __slots__ = ("items", "limit")

    def __init__(self) -> None:
        self.items: list[tuple[Any, ...]] = []
        self.limit = 64


def _lang_keys(agent: Agent) -> tuple[str | None, ...]:
    return (None, *sorted(agent.languages))


class IndexedSelector:
    def __init__(self, plan: RoutingPlan) -> None:
        self.plan = plan
        self._pools: dict[tuple[int, int, str | None], _Heap] = {}
        self._books: dict[tuple[int, int, str | None], _Heap] = {}
        self._last_step = [len(q.steps) - 1 for q in plan.queues]

    # -- agents ----------------------------------------------------------------------

    def agent_changed(self, agent: Agent) -> None:
        # The caller bumped agent.version: every older entry of this agent is stale.
        if not agent.offerable:
            return
        key_tail = (agent.idle_since, agent.agent_id, agent.version, agent)
        for lang in _lang_keys(agent):
            for m in agent.matches:
                heap = self._pools.get((m.queue, m.step, lang))
                if heap is None:
                    heap = self._pools[(m.queue, m.step, lang)] = _Heap()
                self._push(heap, (-m.level, *key_tail), _agent_valid)

    def best_agent_for(self, call: WaitingCall) -> Agent | None:
        for step in range(min(call.step, self._last_step[call.queue]) + 1):
            heap = self._pools.get((call.queue, step, call.language))
            if heap is None:
                continue
            entry = _top(heap, _agent_valid, _refused_by(call.declined))
            if entry is not None:
                agent: Agent = entry[-1]
                return agent
        return None

    # -- calls -----------------------------------------------------------------------

    def call_changed(self, call: WaitingCall) -> None:
        if not call.waiting:
            return
        step = min(call.step, self._last_step[call.queue])
        heap = self._books.get((call.queue, step, call.language))
        if heap is None:
            heap = self._books[(call.queue, step, call.language)] = _Heap()
        self._push(heap, (*call.order_key(), call.version, call), _call_valid)

    def best_call_for(self, agent: Agent) -> WaitingCall | None:
        best: tuple[Any, ...] | None = None
        books = self._books
        agent_id = agent.agent_id

        def refused(entry: tuple[Any, ...]) -> bool:
            return agent_id in entry[-1].declined

        for lang in _lang_keys(agent):
            for m in agent.matches:
                for step in range(m.step, self._last_step[m.queue] + 1):
                    heap = books.get((m.queue, step, lang))
                    if heap is None or not heap.items:
                        continue
                    entry = _top(heap, _call_valid, refused)
                    if entry is not None and (best is None or entry < best):
                        best = entry
        return None if best is None else best[-1]

    # -- heaps -----------------------------------------------------------------------

    @staticmethod
    def _push(heap: _Heap, entry: tuple[Any, ...], valid: Any) -> None:
        heapq.heappush(heap.items, entry)
        if len(heap.items) > heap.limit:
            heap.items = [e for e in heap.items if valid(e)]
            heapq.heapify(heap.items)
            heap.limit = max(64, 2 * len(heap.items))


def _agent_valid(entry: tuple[Any, ...]) -> bool:
    agent: Agent = entry[-1]
    return entry[-2] == agent.version and agent.offerable


def _call_valid(entry: tuple[Any, ...]) -> bool:
    call: WaitingCall = entry[-1]
    return entry[-2] == call.version and call.waiting


def _refused_by(declined: frozenset[int]) -> Any:
    if not declined:
        return None

    def refused(entry: tuple[Any, ...]) -> bool:
        return entry[-1].agent_id in declined

    return refused


def _top(heap: _Heap, valid: Any, skip: Any) -> tuple[Any, ...] | None:
    """The smallest valid entry not skipped; stale entries on the way are dropped,
    skipped valid ones are set aside and put back (rare: refused offers only)."""
    items = heap.items
    held: list[tuple[Any, ...]] = []
    found = None
    while items:
        entry = items[0]
        if not valid(entry):
            heapq.heappop(items)
            continue
        if skip is not None and skip(entry):
            held.append(heapq.heappop(items))
            continue
        found = entry
        break
    for entry in held:
        heapq.heappush(items, entry)
    return found
