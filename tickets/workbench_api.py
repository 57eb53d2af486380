"""HTTP API of the work-order workbench (the /tickets/ page; tickets/workbench.py wires it).

    GET  /api/workbench/context                         who I am, departments, categories, staff
    GET  /api/workbench/tickets                         working list (department / mine / all)
                                                        with filters, SLA state and countdowns
    GET  /api/workbench/tickets/{id}                    the work-order sheet: ticket, customer,
                                                        history, linked calls + recordings,
                                                        attachments, next actions
    GET  /api/workbench/tickets/{id}/attachments        the ticket's attachments
    POST /api/workbench/tickets/{id}/attachments        upload one file (multipart field `file`)
    GET  /api/workbench/attachments/{id}[?download=true] the original bytes (audited)

Changes to a ticket (claim/assign, notes, transfer, transitions) are the tickets API's
(tickets/api.py); this module only reads, and adds attachments. Who may: every signed-in
role, as for the tickets API (department clerks are agents with users.department set).
Phone numbers are masked (kernel/masking.py) unless privacy.full_number_roles has the
user's role (privacy/numbers.py); then each answer with a full number is audited
("customer.number_shown", object_type "ticket").
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel
from sqlmodel import col, select

from agent_api.auth import CurrentUser, Principal
from agent_api.deps import client_address
from agent_api.errors import ApiError, NotFound, error_responses
from db.models import (
    Customer,
    Recording,
    RecordingState,
    TicketAttachment,
    TicketEvent,
    TicketPriority,
    TicketState,
    User,
)
from hotline.services import Services
from kernel.audit import Actor
from kernel.masking import mask_phone, mask_phones_in_text
from privacy.numbers import full_numbers, shown
from recordings.access import Viewer, may_play
from tickets import attachments as att
from tickets import lifecycle, links
from tickets.records import snapshot
from tickets.service import TicketService
from tickets.workbench_queries import (
    SlaState,
    WorkQuery,
    running_deadline,
    sla_state_of,
    work_list,
)

router = APIRouter(prefix="/api/workbench", tags=["workbench"])
TicketId = Annotated[int, Path(ge=1, le=2**31 - 1)]
AttachmentId = Annotated[int, Path(ge=1, le=2**53)]
READ_ERRORS = error_responses(400, 401, 403, 404, 422)
UPLOAD_ERRORS = error_responses(400, 401, 403, 404, 413, 415, 422)
FILE_ERRORS = error_responses(401, 403, 404, 409)
# Multipart framing around the file (boundaries, headers) on top of the size limit.
_FRAMING = 64 * 1024


class Workbench:
    """What the routes share (app.state.workbench, built by tickets/workbench.py)."""

    def __init__(self, services: Services, attachments: att.AttachmentService) -> None:
        self.services = services
        self.attachments = attachments
        self.zone = zoneinfo.ZoneInfo(services.settings.center.timezone)

    def tickets(self, request: Request) -> TicketService:
        existing = getattr(request.app.state, "tickets", None)
        if isinstance(existing, TicketService):
            return existing
        feature = self.services.features.tickets
        return feature if isinstance(feature, TicketService) else TicketService(self.services)


def _bench(request: Request) -> Workbench:
    bench: Workbench = request.app.state.workbench
    return bench


def _actor(request: Request, user: Principal) -> Actor:
    name = user.display_name or user.username
    return Actor(user.id, name, user.role.value, client_address(request))


def _phone(full: bool, number: str | None) -> str | None:
    return number if full else mask_phone(number)


def _text(full: bool, text: str | None) -> str | None:
    if text is None or full:
        return text
    return mask_phones_in_text(text)


async def _audit_shown(
    request: Request, user: Principal, object_id: str | int, ids: list[int]
) -> None:
    """A full number shown (privacy.full_number_roles): one audit row, before the answer."""
    bench = _bench(request)
    async with bench.services.sessions() as session:
        await shown(
            session,
            user=user,
            services=bench.services,
            object_type="ticket",
            object_id=object_id,
            source=client_address(request),
            ids=list(ids),
        )


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- responses ------------------------------------------------------------------------


class Label(BaseModel):
    zh: str
    en: str


class Named(BaseModel):
    name: str
    label: Label


class CategoryOut(Named):
    department: str


class StaffOut(BaseModel):
    id: int
    display_name: str
    role: str
    department: str | None


class MeOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    department: str | None


class ContextOut(BaseModel):
    me: MeOut
    departments: list[Named]
    categories: list[CategoryOut]
    priorities: list[str]
    states: list[str]
    staff: list[StaffOut]
    now: str
    center_name: Label
    timezone: str  # the center's (dates and the date filters are local to it)
    masked: bool  # phone numbers are masked for this user
    attachment_max_bytes: int
    attachment_types: list[str]


class WorkItem(BaseModel):
    id: int
    number: str
    category: str
    priority: str
    state: str
    department: str
    assignee_id: int | None
    assignee_name: str | None
    customer_id: int | None
    customer_name: str | None
    district: str | None
    contact_name: str | None
    contact_number: str | None  # masked unless admin
    subject: str
    created_at: str | None
    response_due_at: str | None
    resolution_due_at: str | None
    responded_at: str | None
    resolved_at: str | None
    closed_at: str | None
    sla_state: SlaState
    sla_clock: str | None  # response / resolution: the running clock the countdown shows
    sla_due_at: str | None
    escalation_level: int
    reopen_count: int


class WorkList(BaseModel):
    scope: str
    department: str | None
    now: str
    items: list[WorkItem]


class CustomerOut(BaseModel):
    id: int
    name: str
    district: str
    address: str
    account_number: str


class EventRow(BaseModel):
    id: int
    at: str
    actor_name: str
    action: str
    field: str | None
    from_value: str | None
    to_value: str | None
    note: str | None


class RecordingOut(BaseModel):
    id: int
    duration_seconds: float | None
    state: str
    playable: bool  # this user may hear it (recordings/access.py)


class CallOut(BaseModel):
    linkedid: str
    relation: str
    started_at: str
    caller_number: str | None
    talk_seconds: float
    disposition: str
    recordings: list[RecordingOut]


class AttachmentOut(BaseModel):
    id: int
    ticket_id: int
    filename: str
    content_type: str
    size_bytes: int
    uploaded_by_name: str
    uploaded_at: str
    sealed: bool


class SheetOut(BaseModel):
    ticket: WorkItem
    description: str
    resolution: str | None
    source: str
    external_ref: str | None
    informed_at: str | None
    customer: CustomerOut | None
    history: list[EventRow]
    calls: list[CallOut]
    attachments: list[AttachmentOut]
    actions: list[str]
    now: str


def _item(
    full: bool,
    t: Any,
    now: dt.datetime,
    *,
    customer_name: str | None,
    district: str | None,
    assignee_name: str | None,
) -> WorkItem:
    clock, due = running_deadline(t)
    view = snapshot(t)
    return WorkItem(
        **{k: view[k] for k in WorkItem.model_fields if k in view},
        assignee_name=assignee_name,
        customer_name=customer_name,
        district=district,
        sla_state=sla_state_of(t, now),
        sla_clock=clock,
        sla_due_at=_iso(due),
    ).model_copy(update={"contact_number": _phone(full, t.contact_number)})


def _attachment(row: TicketAttachment) -> AttachmentOut:
    return AttachmentOut(
        id=row.id or 0,
        ticket_id=row.ticket_id,
        filename=row.filename,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        uploaded_by_name=row.uploaded_by_name,
        uploaded_at=row.uploaded_at.isoformat(),
        sealed=row.sealed,
    )


def _event(full: bool, e: TicketEvent) -> EventRow:
    phone_field = e.field == "contact_number"
    return EventRow(
        id=e.id or 0,
        at=e.at.isoformat(),
        actor_name=e.actor_name,
        action=e.action,
        field=e.field,
        from_value=_phone(full, e.from_value) if phone_field else _text(full, e.from_value),
        to_value=_phone(full, e.to_value) if phone_field else _text(full, e.to_value),
        note=_text(full, e.note),
    )


# --- routes ---------------------------------------------------------------------------


@router.get("/context", response_model=ContextOut, responses=READ_ERRORS)
async def context(request: Request, user: CurrentUser) -> ContextOut:
    bench = _bench(request)
    settings = bench.services.settings.tickets
    async with bench.services.sessions() as session:
        me = await session.get(User, user.id)
        staff = await session.exec(
            select(User)
            .where(col(User.active).is_(True))
            .order_by(col(User.department), col(User.display_name))
            .limit(1000)
        )
        people = [
            StaffOut(
                id=u.id or 0,
                display_name=u.display_name,
                role=u.role.value,
                department=u.department,
            )
            for u in staff.all()
        ]
    return ContextOut(
        me=MeOut(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role.value,
            department=me.department if me else None,
        ),
        departments=[
            Named(name=d.name, label=Label(**d.label.model_dump())) for d in settings.departments
        ],
        categories=[
            CategoryOut(name=c.name, label=Label(**c.label.model_dump()), department=c.department)
            for c in settings.categories
        ],
        priorities=[p.value for p in TicketPriority],
        states=[s.value for s in TicketState],
        staff=people,
        now=bench.services.clock.now().isoformat(),
        center_name=Label(**bench.services.settings.center.name.model_dump()),
        timezone=bench.services.settings.center.timezone,
        masked=not full_numbers(user, bench.services),
        attachment_max_bytes=bench.attachments.settings.max_bytes,
        attachment_types=list(bench.attachments.settings.types),
    )


@router.get("/tickets", response_model=WorkList, responses=READ_ERRORS)
async def work_tickets(
    request: Request,
    user: CurrentUser,
    scope: Annotated[
        Literal["department", "mine", "unassigned", "all"],
        Query(description="department (mine by default), unassigned, mine (assigned to me), all"),
    ] = "department",
    department: Annotated[str | None, Query(max_length=40)] = None,
    category: Annotated[list[str] | None, Query()] = None,
    priority: Annotated[list[TicketPriority] | None, Query()] = None,
    state: Annotated[list[TicketState] | None, Query()] = None,
    sla: Annotated[list[SlaState] | None, Query()] = None,
    customer: Annotated[
        str | None, Query(max_length=100, description="name, account, phone")
    ] = None,
    district: Annotated[str | None, Query(max_length=40)] = None,
    created_from: Annotated[dt.date | None, Query(description="local date, inclusive")] = None,
    created_to: Annotated[dt.date | None, Query(description="local date, inclusive")] = None,
    archived: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> WorkList:
    bench = _bench(request)
    if category and any(len(c) > 40 for c in category):
        raise ApiError(422, "invalid_filter", "a category name is at most 40 characters")
    if created_from and created_to and created_to < created_from:
        raise ApiError(422, "invalid_filter", "created_to is before created_from")
    now = bench.services.clock.now()
    chosen = department
    if scope in ("department", "unassigned") and chosen is None:
        async with bench.services.sessions() as session:
            me = await session.get(User, user.id)
        chosen = me.department if me else None
    if scope in ("mine", "all") and department is None:
        chosen = None

    def midnight(day: dt.date | None) -> dt.datetime | None:
        if day is None:
            return None
        return dt.datetime.combine(day, dt.time(0), bench.zone)

    query = WorkQuery(
        department=chosen,
        assignee_id=user.id if scope == "mine" else None,
        unassigned=scope == "unassigned",
        categories=tuple(category or ()),
        priorities=tuple(priority or ()),
        states=tuple(state or ()),
        sla=tuple(sla or ()),
        customer=customer,
        district=district,
        created_from=midnight(created_from),
        created_to=midnight(created_to + dt.timedelta(days=1)) if created_to else None,
        archived=archived,
        limit=limit,
        offset=offset,
    )
    async with bench.services.sessions() as session:
        rows = await work_list(session, query, now)
    full = full_numbers(user, bench.services)
    if full and (shown_ids := [r.ticket.id or 0 for r in rows if r.ticket.contact_number]):
        await _audit_shown(request, user, "list", shown_ids)
    items = [
        _item(
            full,
            r.ticket,
            now,
            customer_name=r.customer_name,
            district=r.district,
            assignee_name=r.assignee_name,
        )
        for r in rows
    ]
    return WorkList(scope=scope, department=chosen, now=now.isoformat(), items=items)


@router.get("/tickets/{ticket_id}", response_model=SheetOut, responses=READ_ERRORS)
async def sheet(request: Request, ticket_id: TicketId, user: CurrentUser) -> SheetOut:
    bench = _bench(request)
    t = await bench.tickets(request).get(ticket_id)  # 404 for an unknown ticket
    now = bench.services.clock.now()
    viewer = Viewer(user.id, user.username, user.role.value)
    own = bench.services.settings.recording.agents_play_own
    full = full_numbers(user, bench.services)
    async with bench.services.sessions() as session:
        customer = await session.get(Customer, t.customer_id) if t.customer_id else None
        assignee = await session.get(User, t.assignee_id) if t.assignee_id else None
        events = await session.exec(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(col(TicketEvent.at), col(TicketEvent.id))
        )
        history = [_event(full, e) for e in events.all()]
        linked = await links.calls_of(session, ticket_id)
        call_ids = [c.id for c, _ in linked if c.id is not None]
        found = await session.exec(
            select(Recording)
            .where(col(Recording.call_id).in_(call_ids))
            .where(col(Recording.state) == RecordingState.COMPLETED)
            .order_by(col(Recording.started_at))
        )
        by_call: dict[int, list[RecordingOut]] = {}
        for rec in found.all():
            by_call.setdefault(rec.call_id or 0, []).append(
                RecordingOut(
                    id=rec.id or 0,
                    duration_seconds=rec.duration_seconds,
                    state=rec.state.value,
                    playable=may_play(viewer, rec.agent_id, own),
                )
            )
    files = await bench.attachments.of_ticket(ticket_id)
    calls = [
        CallOut(
            linkedid=c.linkedid,
            relation=relation,
            started_at=c.started_at.isoformat(),
            caller_number=_phone(full, c.caller_number),
            talk_seconds=c.talk_seconds,
            disposition=c.disposition.value,
            recordings=by_call.get(c.id or 0, []),
        )
        for c, relation in linked
    ]
    if full and (t.contact_number or any(c.caller_number for c, _ in linked)):
        await _audit_shown(request, user, ticket_id, [ticket_id])
    return SheetOut(
        ticket=_item(
            full,
            t,
            now,
            customer_name=customer.name if customer else None,
            district=customer.district if customer else None,
            assignee_name=assignee.display_name if assignee else None,
        ),
        description=_text(full, t.description) or "",
        resolution=_text(full, t.resolution),
        source=snapshot(t)["source"],
        external_ref=t.external_ref,
        informed_at=_iso(t.informed_at),
        customer=CustomerOut(
            id=customer.id or 0,
            name=customer.name,
            district=customer.district,
            address=customer.address,
            account_number=customer.account_number,
        )
        if customer
        else None,
        history=history,
        calls=calls,
        attachments=[_attachment(a) for a in files],
        actions=[a.value for a in lifecycle.allowed(TicketState(t.state))],
        now=now.isoformat(),
    )


@router.get(
    "/tickets/{ticket_id}/attachments", response_model=list[AttachmentOut], responses=READ_ERRORS
)
async def list_attachments(
    request: Request, ticket_id: TicketId, user: CurrentUser
) -> list[AttachmentOut]:
    bench = _bench(request)
    await bench.tickets(request).get(ticket_id)
    return [_attachment(a) for a in await bench.attachments.of_ticket(ticket_id)]


def _refused(exc: att.AttachmentError) -> ApiError:
    if isinstance(exc, att.AttachmentTooLarge):
        return ApiError(413, "attachment_too_large", str(exc))
    if isinstance(exc, att.AttachmentTypeRefused):
        return ApiError(415, "unsupported_attachment_type", str(exc))
    if isinstance(exc, att.AttachmentNotFound):
        return NotFound(str(exc))
    if isinstance(exc, att.AttachmentUnavailable):
        return ApiError(409, "attachment_unavailable", str(exc))
    return ApiError(422, "invalid_attachment", str(exc))


@router.post(
    "/tickets/{ticket_id}/attachments",
    response_model=AttachmentOut,
    status_code=201,
    responses=UPLOAD_ERRORS,
)
async def upload_attachment(
    request: Request,
    ticket_id: TicketId,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="JPEG, PNG, WebP or PDF")],
) -> AttachmentOut:
    bench = _bench(request)
    limit = bench.attachments.settings.max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _FRAMING:
        raise _refused(att.AttachmentTooLarge(limit))
    data = await file.read(limit + 1)
    try:
        row = await bench.attachments.add(ticket_id, file.filename, data, _actor(request, user))
    except att.AttachmentError as exc:
        raise _refused(exc) from None
    return _attachment(row)


@router.get("/attachments/{attachment_id}", responses=FILE_ERRORS)
async def open_attachment(
    request: Request,
    attachment_id: AttachmentId,
    user: CurrentUser,
    download: bool = False,
) -> Response:
    bench = _bench(request)
    try:
        opened = await bench.attachments.open(
            attachment_id, _actor(request, user), download=download
        )
    except att.AttachmentError as exc:
        raise _refused(exc) from None
    disposition = "attachment" if download else "inline"
    name = opened.row.filename
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return Response(
        opened.data,
        media_type=opened.row.content_type,
        headers={
            "Content-Disposition": (
                f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
            ),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
