"""Estimated wait time per queue and per caller, from live router state. Pure.

For a queue, every agent who serves it (logged in, ready or busy, phone not absent)
frees up at a predictable time: now if available (or when the call reaches the step
the agent matches), at the end of its wrap-up, or one smoothed handle time after it
answered (talk + wrap-up, measured per queue by the router). Callers are served in
line order: the n-th caller gets the n-th free slot, and the agent it takes frees
again one handle time later. The estimate for a new caller is the next slot.

Limitation, stated: agents shared with other queues are counted fully here; their
time spent on the other queues shows up only through the measured handle times.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

from routing.core.model import Agent, AgentState, Presence
from routing.core.router import Router

_BUSY_FLOOR = 0.1  # an agent past the average handle time still needs a little while


@dataclass(frozen=True, slots=True)
class QueueEstimate:
    queue: str
    waiting: int
    agents: int  # agents serving the queue now
    handle_seconds: float
    new_caller_seconds: float | None  # None: nobody serves the queue
    callers: dict[str, float | None]  # call id -> expected remaining wait

    @property
    def new_caller_minutes(self) -> int | None:
        """What a caller is told: whole minutes, rounded up (0 = less than a minute)."""
        if self.new_caller_seconds is None:
            return None
        return math.ceil(self.new_caller_seconds / 60) if self.new_caller_seconds >= 30 else 0


def _free_at(agent: Agent, queue: int, step_start: float, now: float, handle: float) -> float:
    state = agent.state
    if state is AgentState.AVAILABLE:
        return now + step_start
    if state is AgentState.WRAP_UP and agent.wrap_until is not None:
        return agent.wrap_until
    started = agent.answered_at if agent.answered_at is not None else now
    return max(started + handle, now + _BUSY_FLOOR * handle)


def estimate(router: Router, queue: str) -> QueueEstimate:
    plan = router.plan.queue(queue)
    now = router.clock.timestamp()
    handle = router.stats[plan.index].handle_seconds
    slots: list[float] = []
    for agent in router.agents.values():
        if agent.state in (AgentState.LOGGED_OUT, AgentState.NOT_READY):
            continue
        if agent.presence is Presence.ABSENT:
            continue
        for m in agent.matches:
            if m.queue == plan.index:
                step_start = plan.steps[m.step].starts_after
                slots.append(_free_at(agent, plan.index, step_start, now, handle))
                break
    calls = router.waiting_calls(queue)
    callers: dict[str, float | None] = {}
    if not slots:
        return QueueEstimate(queue, len(calls), 0, handle, None, {c.call_id: None for c in calls})
    heapq.heapify(slots)
    for call in calls:
        slot = heapq.heappop(slots)
        callers[call.call_id] = round(max(0.0, slot - now), 1)
        heapq.heappush(slots, max(slot, now) + handle)
    new_caller = round(max(0.0, slots[0] - now), 1)
    return QueueEstimate(queue, len(calls), len(slots), handle, new_caller, callers)


def estimate_all(router: Router) -> dict[str, QueueEstimate]:
    return {q.name: estimate(router, q.name) for q in router.plan.queues}
