"""HTTP API of work orders (included by hotline/http.py).

    GET    /api/tickets                      search (number, customer, phone, state, text...)
    POST   /api/tickets                      create (repeat contacts link to the open one)
    GET    /api/tickets/{id}                 the ticket;  GET .../history  its trail
    PATCH  /api/tickets/{id}                 edit fields (each change is in the trail)
    POST   /api/tickets/{id}/assign|transfer|transition|notes|calls|archive
Notices and the customer import: customers/api.py (included here); follow-ups:
followups/api.py; the knowledge base: knowledge/api.py.
Domain errors become 404 / 409 / 422 in the table of hotline/http.py.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from agent_api.auth import CurrentUser, Principal, require_roles
from agent_api.errors import error_responses
from db.models import Role, Ticket, TicketState
from hotline.services import Services
from kernel.audit import Actor
from kernel.masking import mask_phone, mask_phones_in_text
from privacy.numbers import full_numbers
from tickets.records import TicketDraft, TicketQuery
from tickets.schemas import (
    Archive,
    Assign,
    CallLink,
    EventOut,
    Note,
    TicketCreate,
    TicketCreated,
    TicketOut,
    TicketUpdate,
    Transfer,
    Transition,
)
from tickets.service import TicketService

# Every route documents the error bodies it can give ({error, message}).
ERRORS = error_responses(400, 401, 403, 404, 409, 422)
router = APIRouter(tags=["tickets"])
Staff = Annotated[Principal, require_roles(Role.SUPERVISOR, Role.ADMIN)]
TicketId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def actor_of(user: Principal) -> Actor:
    return Actor(user.id, user.display_name or user.username, user.role.value)


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _out(user: Principal, request: Request, ticket: Ticket) -> TicketOut:
    """The ticket as this user may see it: the contact number and phones in the
    description masked for roles outside privacy.full_number_roles."""
    out = TicketOut.of(ticket)
    if full_numbers(user, _services(request)):
        return out
    return out.model_copy(
        update={
            "contact_number": mask_phone(out.contact_number),
            "description": mask_phones_in_text(out.description),
        }
    )


def _tickets(request: Request) -> TicketService:
    existing = getattr(request.app.state, "tickets", None)
    return existing if isinstance(existing, TicketService) else TicketService(_services(request))


@router.get("/api/tickets", response_model=list[TicketOut], responses=ERRORS)
async def search_tickets(
    request: Request,
    user: CurrentUser,
    number: Annotated[str | None, Query(max_length=30)] = None,
    customer_id: Annotated[int | None, Query(ge=1)] = None,
    phone: Annotated[str | None, Query(max_length=40)] = None,
    state: Annotated[list[TicketState] | None, Query()] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    department: Annotated[str | None, Query(max_length=40)] = None,
    assignee_id: Annotated[int | None, Query(ge=1)] = None,
    q: Annotated[str | None, Query(max_length=100, description="full text, Chinese too")] = None,
    archived: Annotated[bool | None, Query(description="omit: archived and active")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[TicketOut]:
    query = TicketQuery(
        number=number,
        customer_id=customer_id,
        phone=phone,
        states=state or (),
        category=category,
        department=department,
        assignee_id=assignee_id,
        text=q,
        archived=archived,
        limit=limit,
        offset=offset,
    )
    return [_out(user, request, t) for t in await _tickets(request).search(query)]


@router.post("/api/tickets", response_model=TicketCreated, status_code=201, responses=ERRORS)
async def create_ticket(request: Request, body: TicketCreate, user: CurrentUser) -> TicketCreated:
    draft = TicketDraft(**body.model_dump(exclude={"linkedid", "detect_repeat"}))
    result = await _tickets(request).create(
        draft, actor_of(user), linkedid=body.linkedid, detect_repeat=body.detect_repeat
    )
    return TicketCreated(ticket=_out(user, request, result.ticket), created=result.created)


@router.get("/api/tickets/{ticket_id}", response_model=TicketOut, responses=ERRORS)
async def get_ticket(request: Request, ticket_id: TicketId, user: CurrentUser) -> TicketOut:
    return _out(user, request, await _tickets(request).get(ticket_id))


@router.get("/api/tickets/{ticket_id}/history", response_model=list[EventOut], responses=ERRORS)
async def ticket_history(
    request: Request, ticket_id: TicketId, user: CurrentUser
) -> list[EventOut]:
    svc = _tickets(request)
    await svc.get(ticket_id)  # 404 for an unknown ticket
    return [EventOut.of(e) for e in await svc.history(ticket_id)]


@router.patch("/api/tickets/{ticket_id}", response_model=TicketOut, responses=ERRORS)
async def update_ticket(
    request: Request, ticket_id: TicketId, body: TicketUpdate, user: CurrentUser
) -> TicketOut:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    return _out(user, request, await _tickets(request).update(ticket_id, actor_of(user), **changes))


@router.post("/api/tickets/{ticket_id}/assign", response_model=TicketOut, responses=ERRORS)
async def assign_ticket(
    request: Request, ticket_id: TicketId, body: Assign, user: CurrentUser
) -> TicketOut:
    ticket = await _tickets(request).assign(ticket_id, body.assignee_id, actor_of(user))
    return _out(user, request, ticket)


@router.post("/api/tickets/{ticket_id}/transfer", response_model=TicketOut, responses=ERRORS)
async def transfer_ticket(
    request: Request, ticket_id: TicketId, body: Transfer, user: CurrentUser
) -> TicketOut:
    svc = _tickets(request)
    ticket = await svc.transfer(ticket_id, body.department, body.reason, actor_of(user))
    return _out(user, request, ticket)


@router.post("/api/tickets/{ticket_id}/transition", response_model=TicketOut, responses=ERRORS)
async def transition_ticket(
    request: Request, ticket_id: TicketId, body: Transition, user: CurrentUser
) -> TicketOut:
    t = await _tickets(request).transition(
        ticket_id, body.to, actor_of(user), note=body.note, resolution=body.resolution
    )
    return _out(user, request, t)


@router.post("/api/tickets/{ticket_id}/notes", response_model=TicketOut, responses=ERRORS)
async def add_note(
    request: Request, ticket_id: TicketId, body: Note, user: CurrentUser
) -> TicketOut:
    ticket = await _tickets(request).add_note(ticket_id, body.text, actor_of(user))
    return _out(user, request, ticket)


@router.post("/api/tickets/{ticket_id}/calls", response_model=dict[str, bool], responses=ERRORS)
async def link_call(
    request: Request, ticket_id: TicketId, body: CallLink, user: CurrentUser
) -> dict[str, bool]:
    svc = _tickets(request)
    linked = await svc.link_call(
        ticket_id, actor_of(user), linkedid=body.linkedid, relation=body.relation
    )
    return {"linked": linked}


@router.post("/api/tickets/{ticket_id}/archive", response_model=TicketOut, responses=ERRORS)
async def archive_ticket(
    request: Request, ticket_id: TicketId, body: Archive, user: Staff
) -> TicketOut:
    ticket = await _tickets(request).archive(ticket_id, actor_of(user), body.archived)
    return _out(user, request, ticket)
