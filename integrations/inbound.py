"""The integration gateway's incoming side: external systems update tickets.

    POST /integrations/{system}/tickets/{number}
    X-Hotline-Signature: t=<unix>,v1=<HMAC-SHA256(secret, "<t>.<raw body>")>
    {"event_id": "dispatch-8812", "action": "resolve", "resolution": "已更换调压阀"}

`system` is a `tickets.webhooks` entry with `inbound: true`; its secret (from the
environment variable `secret_env`) signs requests both ways. Actions: note, start,
resolve, close, transfer (department + reason), update (external_ref). The caller's
event_id makes a retried request harmless: it is applied once (kept in audit_log.source)
and the same answer is given again. Errors: 401 bad signature, 404 unknown system or
ticket, 409 not allowed in the ticket's state, 422 invalid.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field, ValidationError
from sqlmodel import select

from db.models import AuditLog, Ticket
from hotline.services import Services
from integrations.signing import SIGNATURE_HEADER, verify
from kernel.audit import Actor, audit_row, write_audit
from kernel.config.care import WebhookSettings
from tickets.errors import IllegalTransition, InvalidTicket, TicketNotFound
from tickets.lifecycle import Action
from tickets.records import snapshot
from tickets.service import TicketService

router = APIRouter(prefix="/integrations", tags=["integrations"])


class InboundUpdate(BaseModel):
    event_id: str = Field(min_length=1, max_length=48)
    action: Literal["note", "start", "resolve", "close", "transfer", "update"]
    note: str | None = Field(None, max_length=4000)
    resolution: str | None = Field(None, max_length=4000)
    department: str | None = None
    reason: str | None = Field(None, max_length=500)
    external_ref: str | None = Field(None, max_length=64)


def inbound_system(services: Services, name: str) -> WebhookSettings | None:
    for hook in services.settings.tickets.webhooks:
        if hook.name == name and hook.inbound:
            return hook
    return None


async def apply_update(
    services: Services, system: str, number: str, update: InboundUpdate
) -> tuple[Ticket, bool]:
    """Apply once per (system, event_id); (ticket, False) when it was applied before."""
    svc = TicketService(services)
    ticket = await svc.get_by_number(number)
    key = f"{system}:{update.event_id}"
    async with services.sessions() as session:
        seen = await session.exec(
            select(AuditLog.id).where(AuditLog.source == key, AuditLog.object_type == "ticket")
        )
        if seen.first() is not None:
            return ticket, False
    actor = Actor.system(f"integration:{system}")
    tid = ticket.id
    assert tid is not None
    if update.action == "note":
        ticket = await svc.add_note(tid, update.note or "", actor)
    elif update.action == "start":
        ticket = await svc.transition(tid, Action.START, actor, note=update.note)
    elif update.action == "resolve":
        ticket = await svc.transition(
            tid, Action.RESOLVE, actor, note=update.note, resolution=update.resolution
        )
    elif update.action == "close":
        ticket = await svc.transition(tid, Action.CLOSE, actor, note=update.note)
    elif update.action == "transfer":
        ticket = await svc.transfer(tid, update.department or "", update.reason or "", actor)
    else:
        ticket = await svc.update(tid, actor, external_ref=update.external_ref)
    async with services.sessions() as session:
        row = audit_row(
            actor=Actor.system(actor.name),
            action=f"integration.ticket_{update.action}",
            object_type="ticket",
            object_id=ticket.number,
            source=key,
            detail=update.model_dump(exclude_none=True),
            at=services.clock.now(),
        )
        await write_audit(session, [row])
        await session.commit()
    return ticket, True


@router.post("/{system}/tickets/{number}")
async def update_ticket(system: str, number: str, request: Request) -> dict[str, Any]:
    services: Services = request.app.state.services
    hook = inbound_system(services, system)
    if hook is None:
        raise HTTPException(404, f"no inbound integration {system!r}")
    body = await request.body()
    secret = os.environ.get(hook.secret_env, "")
    if not verify(secret, request.headers.get(SIGNATURE_HEADER), body, services.clock.timestamp()):
        raise HTTPException(401, "bad or missing signature")
    try:
        update = InboundUpdate.model_validate_json(body)
    except ValidationError as exc:
        raise HTTPException(422, exc.errors(include_url=False, include_context=False)) from None
    try:
        ticket, applied = await apply_update(services, system, number, update)
    except TicketNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except IllegalTransition as exc:
        raise HTTPException(409, str(exc)) from None
    except InvalidTicket as exc:
        raise HTTPException(422, str(exc)) from None
    return {"applied": applied, "ticket": snapshot(ticket)}
