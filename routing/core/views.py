"""JSON-ready views of the routing state for the service API (agent API, wallboard)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routing.core.ewt import QueueEstimate
from routing.core.live import LiveCalls
from routing.core.model import Agent, QueueStats, WaitingCall
from routing.core.plan import QueuePlan


def agent_view(a: Agent, now: float) -> dict[str, Any]:
    return {
        "agent_id": a.agent_id,
        "extension": a.extension,
        "state": a.state.value,
        "reason": a.reason,
        "since": a.since,
        "seconds_in_state": round(now - a.since, 1),
        "presence": a.presence.value,
        "phone": a.phone,  # the browser phone's device when the agent chose it, else None
        "skills": dict(a.skills),
        "languages": sorted(a.languages),
        "call_id": a.call_id,
        "no_answers": a.no_answers,
        "pending_not_ready": a.pending_reason if a.pending_not_ready else None,
    }


def call_view(
    c: WaitingCall,
    queue: str,
    live: LiveCalls,
    estimates: Mapping[str, float | None],
    now: float,
) -> dict[str, Any]:
    linkedid = live.linkedid(c.call_id)
    snapshot = live.calls[linkedid].snapshot if linkedid in live.calls else {}
    return {
        "call_id": linkedid,
        "core_id": c.call_id,
        "queue": queue,
        "kind": c.kind.value,
        "priority": c.priority,  # as given (tier, emergency, IVR, supervisor)
        "effective_priority": c.effective_priority,  # with ageing: what the line order uses
        "head_of_line": c.head,
        "step": c.step,
        "language": c.language,
        "enqueued_at": c.enqueued_at,
        "wait_seconds": round(now - c.enqueued_at, 1),
        "estimated_wait": estimates.get(c.call_id),
        "caller_number": snapshot.get("caller_number"),
        "customer_id": snapshot.get("customer_id"),
        "tier": snapshot.get("tier"),
    }


def queue_view(q: QueuePlan, stats: QueueStats, est: QueueEstimate) -> dict[str, Any]:
    answered = stats.answered
    return {
        "queue": q.name,
        "skill": q.skill,
        "waiting": est.waiting,
        "agents": est.agents,
        "estimated_wait_seconds": est.new_caller_seconds,
        "estimated_wait_minutes": est.new_caller_minutes,
        "handle_seconds": round(stats.handle_seconds, 1),
        "answered": answered,
        "abandoned": stats.abandoned,
        "service_level": {
            "target_percent": q.sl_percent,
            "target_seconds": q.sl_seconds,
            "percent": round(100 * stats.answered_in_sl / answered, 1) if answered else None,
        },
    }
