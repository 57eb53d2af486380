"""HTTP: reports as JSON or CSV, charts as JSON data, SVG or PNG (supervisor, QA, admin).

    GET /api/reports?interval=day&dimension=queue&from=2026-01-01&to=2026-01-31
        [&queue=billing&queue=repair][&skill=..][&agent=<user id>][&category=..]
        [&format=json|csv][&lang=zh|en]
    GET /api/reports/chart?kind=line|bar|pie&metric=offered&... [&format=json|svg|png]

Dates are local days of the center (config center.timezone), both included. Metric
definitions: reports/metrics.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from agent_api.auth import Principal, require_roles
from agent_api.deps import ServicesDep
from agent_api.errors import ApiError, error_responses
from db.models import Role
from hotline.services import Services
from reports.export import chart_data, to_csv
from reports.intervals import Interval, ReportRange
from reports.labels import labels_for
from reports.metrics import METRIC_NAMES, derive
from reports.png import PngUnavailable, svg_to_png
from reports.service import ReportResult, ReportService
from reports.sql import Dimension, ReportQuery
from reports.svg import render_svg

router = APIRouter(prefix="/api/reports", tags=["reports"])
Reader = Annotated[Principal, require_roles(Role.SUPERVISOR, Role.QA, Role.ADMIN)]
# Longest range per interval: keeps a response to at most a few thousand buckets.
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
# A users.id: bounded so an out-of-range number is a 422, not a database overflow.
AgentIdParam = Annotated[int, Field(ge=1, le=2**31 - 1)]
MAX_DAYS = {Interval.MIN15: 31, Interval.HOUR: 92, Interval.DAY: 732, Interval.MONTH: 3660}


def _query(
    services: Services,
    interval: Interval,
    dimension: Dimension,
    first: dt.date,
    last: dt.date,
    queue: list[str],
    skill: list[str],
    agent: list[int],
    category: list[str],
) -> ReportQuery:
    if last < first:
        raise ApiError(422, "invalid_range", f"'to' ({last}) is before 'from' ({first})")
    if first < EARLIEST or last > LATEST:
        raise ApiError(422, "invalid_range", f"dates must lie between {EARLIEST} and {LATEST}")
    days = (last - first).days + 1
    if days > MAX_DAYS[interval]:
        raise ApiError(
            422,
            "range_too_long",
            f"{days} days of {interval.value} buckets: at most {MAX_DAYS[interval]} days",
        )
    tz = services.settings.center.timezone
    return ReportQuery(
        ReportRange(first, last, tz),
        interval,
        dimension,
        queues=tuple(queue),
        skills=tuple(skill),
        agent_ids=tuple(agent),
        categories=tuple(category),
    )


async def _run(services: Services, q: ReportQuery) -> ReportResult:
    service = ReportService(services.engine, services.settings)
    return await service.run(q, now=services.clock.now())


def _filters(
    services: Services,
    interval: Interval,
    dimension: Dimension,
    first: dt.date | None,
    last: dt.date | None,
    queue: list[str] | None,
    skill: list[str] | None,
    agent: list[int] | None,
    category: list[str] | None,
) -> ReportQuery:
    """Defaults: today (center time zone) when no dates are given."""
    zone = ZoneInfo(services.settings.center.timezone)
    today = services.clock.now().astimezone(zone).date()
    return _query(
        services,
        interval,
        dimension,
        first or today,
        last or first or today,
        queue or [],
        skill or [],
        agent or [],
        category or [],
    )


@router.get("", responses=error_responses(401, 403, 422))
async def report(
    services: ServicesDep,
    user: Reader,
    interval: Interval = Interval.DAY,
    dimension: Dimension = Dimension.TOTAL,
    first: Annotated[dt.date | None, Query(alias="from")] = None,
    last: Annotated[dt.date | None, Query(alias="to")] = None,
    queue: Annotated[list[str] | None, Query()] = None,
    skill: Annotated[list[str] | None, Query()] = None,
    agent: Annotated[list[AgentIdParam] | None, Query(max_length=200)] = None,
    category: Annotated[list[str] | None, Query()] = None,
    lang: Literal["zh", "en"] = "zh",
    format: Literal["json", "csv"] = "json",
) -> Response:
    q = _filters(services, interval, dimension, first, last, queue, skill, agent, category)
    result = await _run(services, q)
    labels = await labels_for(dimension, result.keys(), services.settings, services.engine, lang)
    name = f"report-{dimension.value}-{interval.value}-{q.range.first}-{q.range.last}"
    if format == "csv":
        return Response(
            to_csv(result, labels),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    by_key = result.by_key()
    return JSONResponse(
        {
            "interval": interval.value,
            "dimension": dimension.value,
            "from": q.range.first.isoformat(),
            "to": q.range.last.isoformat(),
            "timezone": q.range.timezone,
            "rows": [
                {
                    "interval_start": r.bucket.isoformat(),
                    "key": r.key,
                    "label": labels.get(r.key, r.key),
                    **r.metrics.as_dict(),
                }
                for r in result.rows()
            ],
            "by_key": [
                {"key": k, "label": labels.get(k, k), **derive(a).as_dict()}
                for k, a in sorted(by_key.items())
            ],
            "total": derive(result.total()).as_dict(),
        }
    )


@router.get("/chart", responses=error_responses(401, 403, 422, 501))
async def chart(
    services: ServicesDep,
    user: Reader,
    kind: Literal["line", "bar", "pie"] = "line",
    metric: str = "offered",
    interval: Interval = Interval.DAY,
    dimension: Dimension = Dimension.TOTAL,
    first: Annotated[dt.date | None, Query(alias="from")] = None,
    last: Annotated[dt.date | None, Query(alias="to")] = None,
    queue: Annotated[list[str] | None, Query()] = None,
    skill: Annotated[list[str] | None, Query()] = None,
    agent: Annotated[list[AgentIdParam] | None, Query(max_length=200)] = None,
    category: Annotated[list[str] | None, Query()] = None,
    lang: Literal["zh", "en"] = "zh",
    title: str | None = None,
    format: Literal["json", "svg", "png"] = "json",
) -> Response:
    if metric not in METRIC_NAMES:
        raise ApiError(422, "unknown_metric", f"unknown metric {metric!r}: one of {METRIC_NAMES}")
    q = _filters(services, interval, dimension, first, last, queue, skill, agent, category)
    result = await _run(services, q)
    labels = await labels_for(dimension, result.keys(), services.settings, services.engine, lang)
    data = chart_data(result, kind, metric, labels, title or metric)
    if format == "json":
        return JSONResponse(data.as_dict())
    svg = render_svg(data)
    name = f"chart-{kind}-{metric}-{q.range.first}-{q.range.last}"
    if format == "svg":
        return Response(
            svg,
            media_type="image/svg+xml",
            headers={"Content-Disposition": f'inline; filename="{name}.svg"'},
        )
    try:
        png = await svg_to_png(svg)
    except PngUnavailable as exc:
        raise ApiError(501, "png_unavailable", str(exc)) from exc
    return Response(
        png,
        media_type="image/png",
        headers={"Content-Disposition": f'inline; filename="{name}.png"'},
    )
