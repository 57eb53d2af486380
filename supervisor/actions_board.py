"""The agent board the supervisor page shows next to its action buttons.

From the routing service of this process (services.features.routing): each agent's state
and time in it, skills, and the caller of the call it is on; the waiting calls in line
order; plus names from the users table and what the page offers (not-ready reasons,
skills with their labels). The live per-queue counters are the live view's (supervisor/live*).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from db.models import User
from hotline.services import Services
from supervisor.actions_errors import ActionRefused

# Reasons only the router sets (an unanswered offer) are not offered to supervisors.
ROUTER_REASONS = frozenset({"no_answer"})


def _caller(routing: Any, core_id: str | None) -> tuple[str | None, str | None]:
    """(linkedid, caller number) of the call an agent is on, if the router knows it."""
    if core_id is None:
        return None, None
    live = routing.ctx.live
    linkedid = live.linkedid(core_id)
    call = live.calls.get(linkedid)
    snapshot = call.snapshot if call is not None else {}
    return linkedid, snapshot.get("caller_number")


async def board(services: Services) -> dict[str, Any]:
    routing = services.features.routing
    if routing is None:
        raise ActionRefused(
            503, "routing_unavailable", "the router does not run in this server process"
        )
    agents: list[dict[str, Any]] = routing.agents()
    ids = [a["agent_id"] for a in agents]
    async with services.sessions() as session:
        users = (await session.exec(select(User).where(col(User.id).in_(ids)))).all()
    names = {u.id: (u.display_name, u.username) for u in users}
    for agent in agents:
        display, username = names.get(agent["agent_id"], (None, None))
        agent["name"], agent["username"] = display, username
        agent["linkedid"], agent["caller_number"] = _caller(routing, agent.get("call_id"))
    s = services.settings
    return {
        "agents": agents,
        "calls": routing.waiting_calls(),
        "reasons": [r for r in s.routing.not_ready_reasons if r not in ROUTER_REASONS],
        "reason_labels": s.routing.reason_labels(),
        "skills": [{"name": k.name, "label": k.label.model_dump()} for k in s.skills],
        "queues": [{"name": q.name, "label": q.label.model_dump()} for q in s.queues],
    }
