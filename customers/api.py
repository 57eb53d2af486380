"""HTTP API of the notices (management; the agent API serves the ones in force at
GET /api/notices) and the customer CSV import. The knowledge base's: knowledge/api.py.

    GET  /api/notices/manage  POST /api/notices  PATCH /api/notices/{id}
    POST /api/notices/{id}/withdraw                                 (supervisor, admin)
    POST /api/customer-imports  (body: the CSV file) -> 202 {id};  GET .../{id}
    GET  /api/customer-imports/{id}/errors.csv                      (admin)
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import PlainTextResponse

from agent_api.auth import Principal, require_roles
from agent_api.errors import error_responses
from customers.importer import CustomerImporter, ImportFormatError, ImportProgress, ImportReport
from customers.notices import NoticeNotFound, NoticeService
from customers.schemas import (
    ImportJobOut,
    NoticeChange,
    NoticeIn,
    NoticeOut,
)
from db.models import Role
from hotline.services import Services
from kernel.audit import Actor

# Every route documents the error bodies it can give ({error, message}).
ERRORS = error_responses(400, 401, 403, 404, 409, 422)
router = APIRouter()
Staff = Annotated[Principal, require_roles(Role.SUPERVISOR, Role.ADMIN)]
Admin = Annotated[Principal, require_roles(Role.ADMIN)]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_IMPORT_BYTES = 200 * 1024 * 1024


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _actor(user: Principal) -> Actor:
    return Actor(user.id, user.display_name or user.username, user.role.value)


@router.get(
    "/api/notices/manage", response_model=list[NoticeOut], tags=["notices"], responses=ERRORS
)
async def notices_manage(
    request: Request, user: Staff, include_past: bool = False
) -> list[NoticeOut]:
    notices = await NoticeService(_services(request)).listing(include_past=include_past)
    return [NoticeOut.of(n) for n in notices]


@router.post(
    "/api/notices", response_model=NoticeOut, status_code=201, tags=["notices"], responses=ERRORS
)
async def notice_create(request: Request, body: NoticeIn, user: Staff) -> NoticeOut:
    notice = await NoticeService(_services(request)).create(_actor(user), **body.model_dump())
    return NoticeOut.of(notice)


@router.patch(
    "/api/notices/{notice_id}", response_model=NoticeOut, tags=["notices"], responses=ERRORS
)
async def notice_update(
    request: Request, notice_id: RowId, body: NoticeChange, user: Staff
) -> NoticeOut:
    try:
        notice = await NoticeService(_services(request)).update(
            notice_id, _actor(user), **body.model_dump(exclude_unset=True)
        )
    except NoticeNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return NoticeOut.of(notice)


@router.post(
    "/api/notices/{notice_id}/withdraw",
    response_model=NoticeOut,
    tags=["notices"],
    responses=ERRORS,
)
async def notice_withdraw(request: Request, notice_id: RowId, user: Staff) -> NoticeOut:
    try:
        notice = await NoticeService(_services(request)).withdraw(notice_id, _actor(user))
    except NoticeNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return NoticeOut.of(notice)


@dataclass
class CustomerImports:
    """The customer-import jobs of this process: their state, their finished reports (for
    errors.csv) and their tasks (kept referenced until they end)."""

    jobs: dict[str, ImportJobOut] = field(default_factory=dict)
    reports: dict[str, ImportReport] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


def _imports(services: Services) -> CustomerImports:
    if services.features.customer_imports is None:
        services.features.customer_imports = CustomerImports()
    return services.features.customer_imports


@router.post(
    "/api/customer-imports",
    response_model=ImportJobOut,
    status_code=202,
    tags=["customers"],
    responses=ERRORS,
)
async def import_customers(request: Request, user: Admin) -> ImportJobOut:
    """Upload the billing export as the request body (text/csv); poll the job."""
    data = await request.body()
    if not data or len(data) > MAX_IMPORT_BYTES:
        raise HTTPException(422, "send the CSV file as the request body (at most 200 MB)")
    services = _services(request)
    job = ImportJobOut(id=uuid.uuid4().hex[:12], state="running")
    imports = _imports(services)
    imports.jobs[job.id] = job

    def progress(p: ImportProgress) -> None:
        job.rows_done, job.rows_total = p.rows_done, p.rows_total
        job.created, job.updated, job.failed = p.created, p.updated, p.failed

    async def run() -> None:
        try:
            report = await CustomerImporter(services).import_csv(
                data, _actor(user), progress=progress
            )
        except ImportFormatError as exc:
            job.state, job.error = "failed", str(exc)
            return
        except Exception as exc:
            job.state, job.error = "failed", f"import failed: {type(exc).__name__}: {exc}"
            raise
        imports.reports[job.id] = report
        job.tier_changes = report.tier_changes
        job.errors = [e.__dict__ for e in report.errors[:1000]]
        job.state = "done"

    task = asyncio.create_task(run(), name=f"customer-import-{job.id}")
    imports.tasks.add(task)
    task.add_done_callback(imports.tasks.discard)
    return job


@router.get(
    "/api/customer-imports/{job_id}",
    response_model=ImportJobOut,
    tags=["customers"],
    responses=ERRORS,
)
async def import_status(request: Request, job_id: str, user: Admin) -> ImportJobOut:
    job = _imports(_services(request)).jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no import job {job_id}")
    return job


@router.get("/api/customer-imports/{job_id}/errors.csv", tags=["customers"], responses=ERRORS)
async def import_errors(request: Request, job_id: str, user: Admin) -> PlainTextResponse:
    report = _imports(_services(request)).reports.get(job_id)
    if report is None:
        raise HTTPException(404, f"no finished import job {job_id}")
    return PlainTextResponse("\ufeff" + report.errors_csv(), media_type="text/csv; charset=utf-8")
