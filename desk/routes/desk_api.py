"""What the desktop needs to draw its forms: labels and codes from config.yaml."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from agent_api.auth import CurrentUser
from agent_api.deps import ServicesDep
from agent_api.errors import error_responses

router = APIRouter(tags=["desk"])


@router.get(
    "/api/desk/config",
    responses=error_responses(401),
    summary="Center name, languages, not-ready reasons, wrap-up codes, ticket categories, queues",
)
async def desk_config(user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    s = services.settings
    return {
        "center": s.center.name.model_dump(),
        "languages": list(s.center.languages),
        "default_language": s.center.default_language,
        "not_ready_reasons": list(s.routing.not_ready_reasons),
        "reason_labels": s.routing.reason_labels(),
        "wrap_up_codes": [
            {"name": c.name, "label": c.label.model_dump()} for c in s.desk.wrap_up_codes
        ],
        "ticket_categories": [
            {"name": c.name, "label": c.label.model_dump(), "priorities": sorted(c.sla)}
            for c in s.tickets.categories
        ],
        "skills": {sk.name: sk.label.model_dump() for sk in s.skills},
        # Where a call may be transferred (POST /api/agent/call/transfer queue:<name>).
        "queues": [{"name": q.name, "label": q.label.model_dump()} for q in s.queues],
        "tiers": {name: t.label.model_dump() for name, t in s.tiers.items()},
        "token_minutes": s.auth.token_minutes,
        # on_demand: nothing is recorded until the agent (or a supervisor) starts it.
        "recording_mode": s.recording.mode,
    }
