"""The /admin/ page and the administration API (admin role only).

    GET    /admin/                                    the page (admin/static/)
    GET    /api/admin/options                         roles, skills, departments, languages
    GET    /api/admin/users                           every account (?include_inactive=false)
    POST   /api/admin/users                           create (must change the password)
    GET    /api/admin/users/{id}
    PATCH  /api/admin/users/{id}                      name, role, extension, skills, ...
    POST   /api/admin/users/{id}/disable              signs the user out everywhere
    POST   /api/admin/users/{id}/enable
    POST   /api/admin/users/{id}/password-reset       a temporary password
    GET    /api/admin/audit                           the audit log, filtered, paginated
    GET    /api/admin/audit.csv                       the same rows as CSV (UTF-8 + BOM)
    GET    /api/admin/calendar                        config hours + the page's edits
    PUT    /api/admin/calendar/days/{day}             a holiday or an adjusted working day
    DELETE /api/admin/calendar/days/{day}
    PUT    /api/admin/calendar/weeks/{valid_from}     weekly hours from a date on
    DELETE /api/admin/calendar/weeks/{valid_from}
    GET    /api/admin/calendar/open?at=...            is the center open then (as the IVR)
    GET    /api/admin/knowledge                       every article (the editor's list)

Knowledge articles and outage notices are written through their own APIs
(knowledge/api.py, customers/api.py), which admins may use.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlmodel import col, select

from admin.audit_log import AuditFilter, AuditLogViewer
from admin.calendar import CalendarAdmin
from admin.errors import (
    AdminError,
    CalendarEntryNotFound,
    InvalidCalendar,
    InvalidUser,
    UserConflict,
    UserNotFound,
)
from admin.schemas import (
    ArticleRow,
    AuditEntryOut,
    AuditPage,
    CalendarDayIn,
    CalendarDayOut,
    CalendarOut,
    CalendarWeekIn,
    CalendarWeekOut,
    ConfigCalendarOut,
    OpenAnswer,
    PasswordResetIn,
    PasswordResetOut,
    UserChange,
    UserCreated,
    UserIn,
    UserOut,
)
from admin.users import UserAdmin
from agent_api.app import HttpFeature
from agent_api.auth import AuthContext, Principal, require_roles
from agent_api.deps import client_address
from agent_api.errors import ApiError, error_responses
from db.models import CalendarDay, CalendarWeek, KbArticle, Role
from hotline.services import Services
from kernel import topics
from kernel.audit import Actor
from kernel.config.center import WEEKDAYS

router = APIRouter(tags=["admin"])
Admin = Annotated[Principal, require_roles(Role.ADMIN)]
ERRORS = error_responses(400, 401, 403, 404, 409, 422)
STATIC = FsPath(__file__).parent / "static"
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]
# Dates: the calendar's range is checked by the service (admin/calendar.py).
Day = Annotated[dt.date, Path(description="YYYY-MM-DD")]
_STATUS: dict[type[AdminError], int] = {
    UserNotFound: 404,
    CalendarEntryNotFound: 404,
    UserConflict: 409,
    InvalidUser: 422,
    InvalidCalendar: 422,
}


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _auth(request: Request) -> AuthContext:
    ctx: AuthContext = request.app.state.auth
    return ctx


def _actor(user: Principal, request: Request) -> Actor:
    return Actor(user.id, user.username, user.role.value, client_address(request))


def _refused(exc: AdminError) -> ApiError:
    status = next((s for kind, s in _STATUS.items() if isinstance(exc, kind)), 422)
    return ApiError(status, exc.code, str(exc))


def _users(request: Request) -> UserAdmin:
    return UserAdmin(_services(request), _auth(request).passwords)


async def _sign_out_everywhere(request: Request, user_id: int) -> None:
    """Every token of the user issued until now stops (agent_api Revocations), and every
    API process closes the user's desk websockets (desk/push/hub.py)."""
    services = _services(request)
    now = services.clock.timestamp()
    lifetime = services.settings.auth.token_minutes * 60.0
    await _auth(request).revocations.revoke_user(user_id, now, now + lifetime)
    await services.bus.publish(topics.AUTH, {"type": "auth.user_revoked", "user_id": user_id})


# -- users ----------------------------------------------------------------------------------


@router.get("/api/admin/options", responses=ERRORS, summary="Choices for the page's forms")
async def options(request: Request, user: Admin) -> dict[str, Any]:
    s = _services(request).settings
    return {
        "roles": [r.value for r in Role],
        "languages": list(s.center.languages),
        "skills": [{"name": k.name, "label": k.label.model_dump()} for k in s.skills],
        "departments": [
            {"name": d.name, "label": d.label.model_dump()} for d in s.tickets.departments
        ],
        "knowledge_categories": [
            {"name": c.name, "label": c.label.model_dump()} for c in s.tickets.knowledge_categories
        ],
        "password_min_length": s.admin.password_min_length,
        "timezone": s.center.timezone,
    }


@router.get("/api/admin/users", response_model=list[UserOut], responses=ERRORS)
async def list_users(request: Request, user: Admin, include_inactive: bool = True) -> Any:
    found = await _users(request).listing(include_inactive=include_inactive)
    return [UserOut.of(u) for u in found]


@router.post("/api/admin/users", response_model=UserCreated, status_code=201, responses=ERRORS)
async def create_user(request: Request, body: UserIn, user: Admin) -> UserCreated:
    try:
        saved = await _users(request).create(_actor(user, request), body)
    except AdminError as exc:
        raise _refused(exc) from None
    return UserCreated(user=UserOut.of(saved.user), temporary_password=saved.temporary_password)


@router.get("/api/admin/users/{user_id}", response_model=UserOut, responses=ERRORS)
async def get_user(request: Request, user_id: UserId, user: Admin) -> UserOut:
    try:
        return UserOut.of(await _users(request).get(user_id))
    except AdminError as exc:
        raise _refused(exc) from None


@router.patch("/api/admin/users/{user_id}", response_model=UserOut, responses=ERRORS)
async def update_user(request: Request, user_id: UserId, body: UserChange, user: Admin) -> UserOut:
    try:
        found = await _users(request).update(_actor(user, request), user_id, body)
    except AdminError as exc:
        raise _refused(exc) from None
    if body.role is not None:  # the role is in the tokens: sign in again with the new one
        await _sign_out_everywhere(request, user_id)
    return UserOut.of(found)


@router.post("/api/admin/users/{user_id}/disable", response_model=UserOut, responses=ERRORS)
async def disable_user(request: Request, user_id: UserId, user: Admin) -> UserOut:
    try:
        found = await _users(request).set_active(_actor(user, request), user_id, False)
    except AdminError as exc:
        raise _refused(exc) from None
    await _sign_out_everywhere(request, user_id)
    return UserOut.of(found)


@router.post("/api/admin/users/{user_id}/enable", response_model=UserOut, responses=ERRORS)
async def enable_user(request: Request, user_id: UserId, user: Admin) -> UserOut:
    try:
        found = await _users(request).set_active(_actor(user, request), user_id, True)
    except AdminError as exc:
        raise _refused(exc) from None
    return UserOut.of(found)


@router.post(
    "/api/admin/users/{user_id}/password-reset",
    response_model=PasswordResetOut,
    responses=ERRORS,
    summary="Set a temporary password (given, or made and answered once)",
)
async def reset_password(
    request: Request, user_id: UserId, body: PasswordResetIn, user: Admin
) -> PasswordResetOut:
    try:
        saved = await _users(request).reset_password(_actor(user, request), user_id, body.password)
    except AdminError as exc:
        raise _refused(exc) from None
    await _sign_out_everywhere(request, user_id)
    return PasswordResetOut(
        user=UserOut.of(saved.user), temporary_password=saved.temporary_password
    )


# -- audit log ------------------------------------------------------------------------------

Text = Annotated[str | None, Query(max_length=80)]


def _filter(
    actor: str | None,
    action: str | None,
    object_type: str | None,
    object_id: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> AuditFilter:
    for name, value in (("since", since), ("until", until)):
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ApiError(422, "invalid_query", f"{name} needs a time zone (e.g. ...+08:00 or Z)")
        if value is not None and not 1970 <= value.year <= 9998:
            raise ApiError(422, "invalid_query", f"{name} is out of range")
    return AuditFilter(actor, action, object_type, object_id, since, until)


@router.get("/api/admin/audit", response_model=AuditPage, responses=ERRORS)
async def audit_log(
    request: Request,
    user: Admin,
    actor: Text = None,
    action: Annotated[str | None, Query(max_length=60, description="a prefix")] = None,
    object_type: Annotated[str | None, Query(max_length=40)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AuditPage:
    f = _filter(actor, action, object_type, object_id, since, until)
    total, rows = await AuditLogViewer(_services(request)).page(f, offset=offset, limit=limit)
    entries = [AuditEntryOut.model_validate(dict(r)) for r in rows]
    return AuditPage(total=total, offset=offset, limit=limit, entries=entries)


@router.get(
    "/api/admin/audit.csv",
    responses={**ERRORS, 200: {"content": {"text/csv": {}}}},
    response_class=StreamingResponse,
)
async def audit_csv(
    request: Request,
    user: Admin,
    actor: Text = None,
    action: Annotated[str | None, Query(max_length=60)] = None,
    object_type: Annotated[str | None, Query(max_length=40)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> StreamingResponse:
    f = _filter(actor, action, object_type, object_id, since, until)
    services = _services(request)
    name = f"audit-{services.clock.now():%Y%m%d-%H%M%S}.csv"
    return StreamingResponse(
        AuditLogViewer(services).csv_chunks(f),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- calendar -------------------------------------------------------------------------------


def _day_out(r: CalendarDay) -> CalendarDayOut:
    return CalendarDayOut(
        day=r.day,
        kind=str(r.kind),
        ranges=[(a, b) for a, b in r.ranges],
        note=r.note,
        updated_by=r.updated_by,
        updated_at=r.updated_at,
    )


def _week_out(r: CalendarWeek) -> CalendarWeekOut:
    return CalendarWeekOut(
        valid_from=r.valid_from,
        weekly={d: [(a, b) for a, b in r.weekly.get(d, [])] for d in WEEKDAYS},
        note=r.note,
        updated_by=r.updated_by,
        updated_at=r.updated_at,
    )


def _hhmm(t: dt.time) -> str:
    return t.strftime("%H:%M")


@router.get("/api/admin/calendar", response_model=CalendarOut, responses=ERRORS)
async def calendar(request: Request, user: Admin) -> CalendarOut:
    s = _services(request).settings
    days, weeks = await CalendarAdmin(_services(request)).rows()
    hours = s.business_hours
    return CalendarOut(
        timezone=s.center.timezone,
        config=ConfigCalendarOut(
            weekly={
                d: [(_hhmm(r.start), _hhmm(r.end)) for r in hours.weekly.get(d, [])]
                for d in WEEKDAYS
            },
            holidays=list(hours.holidays),
            extra_working_days=list(hours.extra_working_days),
        ),
        days=[_day_out(d) for d in days],
        weeks=[_week_out(w) for w in weeks],
    )


@router.put("/api/admin/calendar/days/{day}", response_model=CalendarDayOut, responses=ERRORS)
async def set_day(request: Request, day: Day, body: CalendarDayIn, user: Admin) -> CalendarDayOut:
    try:
        row = await CalendarAdmin(_services(request)).set_day(_actor(user, request), day, body)
    except AdminError as exc:
        raise _refused(exc) from None
    return _day_out(row)


@router.delete("/api/admin/calendar/days/{day}", status_code=204, responses=ERRORS)
async def remove_day(request: Request, day: Day, user: Admin) -> Response:
    try:
        await CalendarAdmin(_services(request)).remove_day(_actor(user, request), day)
    except AdminError as exc:
        raise _refused(exc) from None
    return Response(status_code=204)


@router.put(
    "/api/admin/calendar/weeks/{valid_from}", response_model=CalendarWeekOut, responses=ERRORS
)
async def set_week(
    request: Request, valid_from: Day, body: CalendarWeekIn, user: Admin
) -> CalendarWeekOut:
    try:
        row = await CalendarAdmin(_services(request)).set_week(
            _actor(user, request), valid_from, body
        )
    except AdminError as exc:
        raise _refused(exc) from None
    return _week_out(row)


@router.delete("/api/admin/calendar/weeks/{valid_from}", status_code=204, responses=ERRORS)
async def remove_week(request: Request, valid_from: Day, user: Admin) -> Response:
    try:
        await CalendarAdmin(_services(request)).remove_week(_actor(user, request), valid_from)
    except AdminError as exc:
        raise _refused(exc) from None
    return Response(status_code=204)


@router.get("/api/admin/calendar/open", response_model=OpenAnswer, responses=ERRORS)
async def is_open(request: Request, user: Admin, at: dt.datetime | None = None) -> OpenAnswer:
    services = _services(request)
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        raise ApiError(422, "invalid_query", "at needs a time zone (e.g. ...+08:00 or Z)")
    when = at or services.clock.now()
    if not 1971 <= when.year <= 9000:
        raise ApiError(422, "invalid_query", "at is out of range")
    cal = await CalendarAdmin(services).calendar()
    local_day = when.astimezone(zoneinfo.ZoneInfo(services.settings.center.timezone)).date()
    return OpenAnswer(
        at=when,
        open=cal.is_open(when),
        day_ranges=[(_hhmm(r.start), _hhmm(r.end)) for r in cal.day_ranges(local_day)],
        holiday=cal.is_holiday(local_day),
    )


# -- knowledge ------------------------------------------------------------------------------


@router.get("/api/admin/knowledge", response_model=list[ArticleRow], responses=ERRORS)
async def knowledge(
    request: Request,
    user: Admin,
    language: Annotated[str | None, Query(pattern="^(zh|en)$")] = None,
) -> list[ArticleRow]:
    stmt = select(KbArticle).order_by(col(KbArticle.category), col(KbArticle.title))
    if language:
        stmt = stmt.where(KbArticle.language == language)
    async with _services(request).sessions() as session:
        rows = (await session.exec(stmt.limit(2000))).all()
    return [ArticleRow.model_validate(r, from_attributes=True) for r in rows]


def admin_feature(services: Services) -> HttpFeature:
    del services
    return HttpFeature(routers=[router], static={"/admin": STATIC})
