"""Tickets raised from a call, linked to it (ticket_calls). Thin: the ticket service
(tickets/service.py) numbers them, starts their SLA clocks and records the trail; the
full ticket lifecycle is the tickets feature's own API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from sqlmodel import col, select

from agent_api.auth import Principal, require_roles
from agent_api.deps import ServicesDep, SessionDep
from agent_api.errors import ApiError, NotFound, error_responses
from db.models import Role, Ticket, TicketCall, TicketPriority
from desk.deps import HubDep, TicketsDep
from desk.routes.calls_api import Linkedid, visible_call
from hotline.services import Services
from kernel.masking import mask_phone
from privacy.numbers import full_numbers

router = APIRouter(prefix="/api/calls", tags=["tickets from calls"])
Handler = Annotated[Principal, require_roles(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)]
TicketId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class TicketFromCall(BaseModel):
    category: str = Field(min_length=1, max_length=40)
    subject: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    priority: TicketPriority = TicketPriority.NORMAL
    # Default: the customer and number of the call.
    customer_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    contact_number: str | None = Field(default=None, max_length=40)
    contact_name: str | None = Field(default=None, max_length=100)


class TicketChange(BaseModel):
    subject: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    priority: TicketPriority | None = None
    category: str | None = Field(default=None, min_length=1, max_length=40)


class TicketOut(BaseModel):
    id: int
    number: str
    category: str
    priority: str
    state: str
    department: str
    subject: str
    description: str
    customer_id: int | None
    contact_number: str | None
    created: bool = True  # False: the call was linked to the customer's open ticket instead
    relation: str | None = None

    @classmethod
    def of(cls, t: Ticket, **kw: Any) -> TicketOut:
        assert t.id is not None
        return cls(
            id=t.id,
            number=t.number,
            category=t.category,
            priority=str(t.priority),
            state=str(t.state),
            department=t.department,
            subject=t.subject,
            description=t.description,
            customer_id=t.customer_id,
            contact_number=t.contact_number,
            **kw,
        )


def _service(tickets: Any) -> Any:
    if tickets is None:
        raise ApiError(503, "tickets_unavailable", "the ticket service is not available")
    return tickets


def _actor(user: Principal) -> Any:
    from kernel.audit import Actor

    return Actor(user.id, user.display_name or user.username, user.role.value)


@router.get(
    "/{linkedid}/tickets",
    response_model=list[TicketOut],
    responses=error_responses(401, 403, 404, 422),
)
async def call_tickets(
    linkedid: Linkedid, user: Handler, session: SessionDep, services: ServicesDep, hub: HubDep
) -> list[TicketOut]:
    call = await visible_call(session, user, hub, linkedid)
    stmt = (
        select(Ticket, TicketCall.relation)
        .join(TicketCall, col(TicketCall.ticket_id) == col(Ticket.id))
        .where(TicketCall.call_id == call.id)
        .order_by(col(Ticket.id))
    )
    rows = (await session.exec(stmt)).all()
    return [_shown(TicketOut.of(t, relation=rel), user, services) for t, rel in rows]


@router.post(
    "/{linkedid}/tickets",
    response_model=TicketOut,
    status_code=201,
    responses=error_responses(400, 401, 403, 404, 422, 503),
    summary="Create a ticket from this call (linked to it)",
)
async def create_from_call(
    linkedid: Linkedid,
    body: TicketFromCall,
    user: Handler,
    session: SessionDep,
    services: ServicesDep,
    hub: HubDep,
    tickets: TicketsDep,
) -> TicketOut:
    from tickets.records import TicketDraft

    service = _service(tickets)
    call = await visible_call(session, user, hub, linkedid)
    draft = TicketDraft(
        category=body.category,
        subject=body.subject,
        description=body.description,
        priority=body.priority,
        customer_id=body.customer_id or call.customer_id,
        contact_number=_contact(body.contact_number, call.caller_number),
        contact_name=body.contact_name or call.caller_name,
    )
    await session.close()  # the service runs its own transaction
    result = await service.create(draft, _actor(user), call_id=call.id)
    hub.builder.forget({"customer_id": draft.customer_id, "caller_number": call.caller_number})
    relation = "created_from" if result.created else "repeat_call"
    out = TicketOut.of(result.ticket, created=result.created, relation=relation)
    return _shown(out, user, services)


@router.patch(
    "/{linkedid}/tickets/{ticket_id}",
    response_model=TicketOut,
    responses=error_responses(400, 401, 403, 404, 409, 422, 503),
    summary="Change a ticket linked to this call",
)
async def update_from_call(
    linkedid: Linkedid,
    ticket_id: TicketId,
    body: TicketChange,
    user: Handler,
    session: SessionDep,
    services: ServicesDep,
    hub: HubDep,
    tickets: TicketsDep,
) -> TicketOut:
    service = _service(tickets)
    call = await visible_call(session, user, hub, linkedid)
    if await session.get(TicketCall, (ticket_id, call.id)) is None:
        raise NotFound(f"ticket {ticket_id} is not linked to call {linkedid}")
    changes = body.model_dump(exclude_none=True)
    if not changes:
        raise ApiError(422, "nothing_to_change", "send at least one field to change")
    await session.close()
    if "contact_number" in changes:
        changes["contact_number"] = _contact(changes["contact_number"], call.caller_number)
    ticket = await service.update(ticket_id, _actor(user), **changes)
    return _shown(TicketOut.of(ticket, relation="linked"), user, services)


def _shown(out: TicketOut, user: Principal, services: Services) -> TicketOut:
    """The contact number masked for roles outside privacy.full_number_roles."""
    if full_numbers(user, services):
        return out
    return out.model_copy(update={"contact_number": mask_phone(out.contact_number)})


def _contact(given: str | None, caller: str | None) -> str | None:
    """The contact number to keep: the desk pre-fills the caller's number as the agent
    sees it (masked), which stands for the caller's full number; any other masked
    number cannot be dialled back and is not kept."""
    if given and "*" in given:
        return caller if caller and mask_phone(caller) == given.strip() else None
    return given or caller or None
