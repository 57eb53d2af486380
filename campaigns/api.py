"""The campaigns page (/campaigns/) and its API: supervisors and admins manage; every
other role is refused (403 naming the roles). Errors are {error, message}; domain errors
(campaigns/errors.py) are mapped in hotline/http.py DOMAIN_ERRORS.

    GET  /api/campaigns                          campaigns with contact counts per state
    POST /api/campaigns                          create (draft); script checked per kind
    POST /api/campaigns/preview                  {filter} -> its count, before creating
    GET  /api/campaigns/report?first=&last=&interval=day|week|month&campaign_id=&format=csv
    GET  /api/campaigns/{id}                     one campaign with live progress
    PATCH /api/campaigns/{id}                    edit while draft or paused
    POST /api/campaigns/{id}/start|pause|resume|stop      (409 when not allowed)
    POST /api/campaigns/{id}/contacts/preview    {filter} -> how many would be added
    POST /api/campaigns/{id}/contacts/filter     {filter} -> added, do_not_call, duplicates
    POST /api/campaigns/{id}/contacts/csv        body: the CSV file -> added, errors by line
    GET  /api/campaigns/{id}/contacts?state=&limit=&offset=   contacts with their results
    GET  /api/campaigns/{id}/results             rates, outcomes, survey averages
    GET  /api/campaigns/{id}/results.csv         contacts' results (UTF-8 with BOM)
    GET  /api/do-not-call?include_lifted=&number=   the do-not-call list
    POST /api/do-not-call {number, note}         add by hand (audited)
    POST /api/do-not-call/{id}/lift              lift (lifted_at set, audited; never deleted)
    GET  /campaigns/                             the page (campaigns/static/)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from agent_api.app import HttpFeature
from agent_api.auth import Principal, require_roles
from agent_api.deps import client_address
from agent_api.errors import ApiError, error_responses
from campaigns.schemas import CampaignChange, CampaignIn, CustomerFilter, DoNotCallIn
from campaigns.service import CampaignService
from db.models import Role
from db.models.campaigns import ContactState
from hotline.services import Services
from kernel.audit import Actor

router = APIRouter(tags=["campaigns"])
pages = APIRouter(include_in_schema=False)
STATIC = FsPath(__file__).parent / "static"
Manager = Annotated[Principal, require_roles(Role.SUPERVISOR, Role.ADMIN)]
CampaignId = Annotated[int, Path(ge=1, le=2**53)]
EntryId = Annotated[int, Path(ge=1, le=2**53)]
ERRORS = error_responses(401, 403, 404, 409, 422)
MAX_CSV_BYTES = 50 * 1024 * 1024
CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _service(request: Request) -> CampaignService:
    service: CampaignService = request.app.state.campaigns
    return service


def _actor(request: Request, user: Principal) -> Actor:
    return Actor(user.id, user.username, user.role.value, client_address(request))


def _csv(name: str, data: bytes) -> Response:
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/api/campaigns", responses=ERRORS)
async def listing(request: Request, user: Manager) -> list[dict[str, Any]]:
    return await _service(request).listing()


@router.post("/api/campaigns", status_code=201, responses=ERRORS)
async def create(request: Request, user: Manager, body: CampaignIn) -> dict[str, Any]:
    return await _service(request).create(_actor(request, user), body)


@router.post("/api/campaigns/preview", responses=ERRORS)
async def preview_new(
    request: Request,
    user: Manager,
    body: Annotated[CustomerFilter, Body(embed=True, alias="filter")],
) -> dict[str, Any]:
    """How many contacts a filter gives, before the campaign exists."""
    return await _service(request).preview(None, body)


@router.get("/api/campaigns/report", responses=ERRORS)
async def report(
    request: Request,
    user: Manager,
    first: dt.date,
    last: dt.date,
    interval: Literal["day", "week", "month"] = "day",
    campaign_id: Annotated[int | None, Query(ge=1, le=2**53)] = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    from campaigns.results import report_csv

    rows = await _service(request).report(first, last, interval, campaign_id)
    if format == "csv":
        return _csv(f"campaigns-{first}-{last}-{interval}.csv", report_csv(rows))
    return {"first": first.isoformat(), "last": last.isoformat(), "interval": interval,
            "rows": rows}  # fmt: skip


@router.get("/api/campaigns/{campaign_id}", responses=ERRORS)
async def get(request: Request, user: Manager, campaign_id: CampaignId) -> dict[str, Any]:
    return await _service(request).get(campaign_id)


@router.patch("/api/campaigns/{campaign_id}", responses=ERRORS)
async def edit(
    request: Request, user: Manager, campaign_id: CampaignId, body: CampaignChange
) -> dict[str, Any]:
    return await _service(request).edit(_actor(request, user), campaign_id, body)


def _action(name: str) -> None:
    async def act(request: Request, user: Manager, campaign_id: CampaignId) -> dict[str, Any]:
        return await _service(request).transition(_actor(request, user), campaign_id, name)

    act.__name__ = f"campaign_{name}"
    router.add_api_route(
        f"/api/campaigns/{{campaign_id}}/{name}", act, methods=["POST"], responses=ERRORS,
        summary=f"{name.capitalize()} a campaign",
    )  # fmt: skip


for _name in ("start", "pause", "resume", "stop"):
    _action(_name)


@router.post("/api/campaigns/{campaign_id}/contacts/preview", responses=ERRORS)
async def preview(
    request: Request,
    user: Manager,
    campaign_id: CampaignId,
    body: Annotated[CustomerFilter, Body(embed=True, alias="filter")],
) -> dict[str, Any]:
    return await _service(request).preview(campaign_id, body)


@router.post("/api/campaigns/{campaign_id}/contacts/filter", responses=ERRORS)
async def add_filter(
    request: Request,
    user: Manager,
    campaign_id: CampaignId,
    body: Annotated[CustomerFilter, Body(embed=True, alias="filter")],
) -> dict[str, Any]:
    return await _service(request).add_from_filter(_actor(request, user), campaign_id, body)


@router.post("/api/campaigns/{campaign_id}/contacts/csv", responses=ERRORS, openapi_extra=CSV_BODY)
async def add_csv(request: Request, user: Manager, campaign_id: CampaignId) -> dict[str, Any]:
    """Send the CSV file as the request body (number,name + data columns)."""
    data = await request.body()
    if not data or len(data) > MAX_CSV_BYTES:
        raise ApiError(422, "invalid_request", "send the CSV file as the body (at most 50 MB)")
    return await _service(request).add_from_csv(_actor(request, user), campaign_id, data)


@router.get("/api/campaigns/{campaign_id}/contacts", responses=ERRORS)
async def contacts(
    request: Request,
    user: Manager,
    campaign_id: CampaignId,
    state: ContactState | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict[str, Any]]:
    return await _service(request).contacts(
        _actor(request, user), campaign_id, state.value if state else None, limit, offset
    )


@router.get("/api/campaigns/{campaign_id}/results", responses=ERRORS)
async def results(request: Request, user: Manager, campaign_id: CampaignId) -> dict[str, Any]:
    return await _service(request).results(campaign_id)


@router.get("/api/campaigns/{campaign_id}/results.csv", responses=ERRORS)
async def results_csv(request: Request, user: Manager, campaign_id: CampaignId) -> Response:
    name, data = await _service(request).results_csv(_actor(request, user), campaign_id)
    return _csv(name, data)


@router.get("/api/do-not-call", responses=ERRORS)
async def dnc_list(
    request: Request,
    user: Manager,
    include_lifted: bool = False,
    number: Annotated[str | None, Query(max_length=30)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    return await _service(request).dnc_list(_actor(request, user), include_lifted, number, limit)


@router.post("/api/do-not-call", status_code=201, responses=ERRORS)
async def dnc_add(request: Request, user: Manager, body: DoNotCallIn) -> dict[str, Any]:
    return await _service(request).dnc_add(_actor(request, user), body.number, body.note)


@router.post("/api/do-not-call/{entry_id}/lift", responses=ERRORS)
async def dnc_lift(request: Request, user: Manager, entry_id: EntryId) -> dict[str, Any]:
    return await _service(request).dnc_lift(_actor(request, user), entry_id)


@pages.get("/campaigns")
async def page_root() -> RedirectResponse:
    return RedirectResponse("/campaigns/")


def campaigns_feature(services: Services) -> HttpFeature:
    """The API, its service on app.state.campaigns, and the page at /campaigns/."""
    return HttpFeature(
        routers=[router, pages],
        state={"campaigns": CampaignService(services)},
        static={"/campaigns": STATIC},
    )
