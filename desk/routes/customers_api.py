"""Customer search and the 360° file; every read is audited before it is served.
Supervisors and administrators manage files: create, update, tier moves, phones
(customers/manage.py; each change audited).

Numbers in every answer go through privacy/numbers.py (masked for roles outside
privacy.full_number_roles; a full number shown is audited). An agent's search remembers
its hits: the files the agent may open outside a call (desk/access.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from agent_api.auth import Principal, require_roles
from agent_api.deps import ServicesDep, SessionDep, client_address
from agent_api.errors import AccessDenied, ApiError, error_responses
from customers import file as files
from customers import manage
from customers.manage import CustomerChange, CustomerConflict, CustomerIn, PhoneIn
from customers.search import search
from customers.views import CallSummary, CustomerDetails, CustomerFile, CustomerSummary
from db.models import Customer, Role
from desk.access import can_search, check_file_access, check_volume
from desk.deps import HubDep
from hotline.services import Services
from kernel.audit import audit
from privacy import grants
from privacy.numbers import for_viewer, full_numbers, one_for_viewer
from privacy.redact import redact_model

router = APIRouter(prefix="/api/customers", tags=["customers"])
Reader = Annotated[Principal, require_roles(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)]
Editor = Annotated[Principal, require_roles(Role.SUPERVISOR, Role.ADMIN)]
CustomerId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get(
    "",
    response_model=list[CustomerSummary],
    responses=error_responses(401, 403, 422),
    summary="Search by phone, account or meter number, or name (Chinese substring)",
)
async def search_customers(
    user: Reader,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=60)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[CustomerSummary]:
    if not can_search(user, services):
        raise AccessDenied("customer search is not open to agents here: use the screen-pop")
    await check_volume(session, user, services)
    hits = await search(session, q, limit)
    if user.role is Role.AGENT:
        minutes = services.settings.privacy.search_grant_minutes
        now = services.clock.now()
        await grants.remember_search(session, user.id, [h.id for h in hits], now, minutes)
    await audit(
        session,
        actor=user.actor(),
        action="customer.search",
        object_type="customer",
        source=client_address(request),
        detail={"q": q, "hits": [h.id for h in hits]},
        clock=services.clock,
    )
    return await for_viewer(
        hits,
        user=user,
        services=services,
        session=session,
        object_type="customer",
        source=client_address(request),
    )


@router.get(
    "/{customer_id}",
    response_model=CustomerFile,
    responses=error_responses(401, 403, 404, 422),
    summary="The 360° file: details, tier, balance and arrears, calls, tickets, surveys",
)
async def customer_file(
    customer_id: CustomerId,
    user: Reader,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    hub: HubDep,
    reason: Annotated[str | None, Query(max_length=200)] = None,
) -> CustomerFile:
    via = await check_file_access(session, user, customer_id, hub, services, reason)
    result = await files.customer_file(session, customer_id)
    detail: dict[str, str] = {"via": via}
    if via == "reason" and reason:
        detail["reason"] = reason.strip()
    await audit(
        session,
        actor=user.actor(),
        action="customer.read",
        object_type="customer",
        object_id=customer_id,
        source=client_address(request),
        detail=detail,
        clock=services.clock,
    )
    return await one_for_viewer(
        result,
        user=user,
        services=services,
        session=session,
        object_type="customer",
        object_id=customer_id,
        source=client_address(request),
    )


@router.get(
    "/{customer_id}/calls",
    response_model=list[CallSummary],
    responses=error_responses(401, 403, 404, 422),
    summary="The customer's call history, newest first",
)
async def customer_calls(
    customer_id: CustomerId,
    user: Reader,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    hub: HubDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    reason: Annotated[str | None, Query(max_length=200)] = None,
) -> list[CallSummary]:
    via = await check_file_access(session, user, customer_id, hub, services, reason)
    await files.get_customer(session, customer_id)
    calls = await files.recent_calls(session, customer_id=customer_id, limit=limit, offset=offset)
    detail: dict[str, str] = {"via": via}
    if via == "reason" and reason:
        detail["reason"] = reason.strip()
    await audit(
        session,
        actor=user.actor(),
        action="customer.calls",
        object_type="customer",
        object_id=customer_id,
        source=client_address(request),
        detail=detail,
        clock=services.clock,
    )
    return await for_viewer(
        calls,
        user=user,
        services=services,
        session=session,
        object_type="customer",
        object_id=customer_id,
        source=client_address(request),
    )


async def _details(
    customer: Customer, user: Principal, services: Services, session: AsyncSession
) -> CustomerDetails:
    """An editor's own change echoed back: masked per role, not a display to audit (the
    change itself is audited by customers/manage.py)."""
    del session
    details = CustomerDetails.of(customer)
    return details if full_numbers(user, services) else redact_model(details)


def _conflict(exc: CustomerConflict) -> ApiError:
    return ApiError(409, "conflict", str(exc))


@router.post(
    "",
    response_model=CustomerDetails,
    status_code=201,
    responses=error_responses(400, 401, 403, 409, 422),
    summary="Create a customer file with its phone numbers",
)
async def create_customer(
    body: CustomerIn, user: Editor, session: SessionDep, services: ServicesDep
) -> CustomerDetails:
    try:
        customer = await manage.create_customer(session, body, user, services.clock)
    except CustomerConflict as exc:
        raise _conflict(exc) from None
    return await _details(customer, user, services, session)


@router.patch(
    "/{customer_id}",
    response_model=CustomerDetails,
    responses=error_responses(400, 401, 403, 404, 422),
    summary="Update a customer's details or move them to another tier (audited with a reason)",
)
async def update_customer(
    customer_id: CustomerId,
    body: CustomerChange,
    user: Editor,
    session: SessionDep,
    services: ServicesDep,
) -> CustomerDetails:
    customer = await manage.update_customer(session, customer_id, body, user, services.clock)
    return await _details(customer, user, services, session)


@router.post(
    "/{customer_id}/phones",
    response_model=CustomerDetails,
    status_code=201,
    responses=error_responses(400, 401, 403, 404, 409, 422),
    summary="Add a phone number to a customer (several per customer; shared numbers allowed)",
)
async def add_phone(
    customer_id: CustomerId, body: PhoneIn, user: Editor, session: SessionDep, services: ServicesDep
) -> CustomerDetails:
    try:
        customer = await manage.add_phone(session, customer_id, body, user, services.clock)
    except CustomerConflict as exc:
        raise _conflict(exc) from None
    return await _details(customer, user, services, session)


@router.delete(
    "/{customer_id}/phones/{number}",
    response_model=CustomerDetails,
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Remove one of a customer's phone numbers",
)
async def remove_phone(
    customer_id: CustomerId,
    number: Annotated[str, Path(min_length=3, max_length=30)],
    user: Editor,
    session: SessionDep,
    services: ServicesDep,
) -> CustomerDetails:
    try:
        customer = await manage.remove_phone(session, customer_id, number, user, services.clock)
    except CustomerConflict as exc:
        raise _conflict(exc) from None
    return await _details(customer, user, services, session)
