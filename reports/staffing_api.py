"""HTTP: the staffing forecast (supervisor, QA, admin: the report readers).

    GET /api/reports/staffing?[queue=repair&queue=..][&week_start=2026-03-02][&weeks=8]
        [&lang=zh|en][&format=json|csv]

`week_start` (default: the Monday after today, center time zone) is the first of the 7
forecast days; the history is the `weeks` (default config staffing.history_weeks) weeks
before it. Without `queue`, every configured queue. Method: reports/staffing.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from agent_api.deps import ServicesDep
from agent_api.errors import ApiError, error_responses
from reports.api import EARLIEST, LATEST, Reader
from reports.staffing import StaffingPlan, StaffingService

router = APIRouter(prefix="/api/reports", tags=["reports"])
MAX_WEEKS = 26
WEEK_TAIL = dt.timedelta(days=6)


def _round(value: float | None, digits: int = 2) -> float | None:
    if value is None:
        return None
    if value != value or value in (float("inf"), float("-inf")):  # NaN, infinity
        return None
    return round(value, digits)


def _as_json(plan: StaffingPlan, lang: str) -> dict[str, Any]:
    needed: dict[str, int] = {}
    for qp in plan.queues:
        for r in qp.rows:
            needed[r.start.isoformat()] = needed.get(r.start.isoformat(), 0) + r.agents_needed
    return {
        "week_start": plan.week_start.isoformat(),
        "week_end": (plan.week_start + dt.timedelta(days=6)).isoformat(),
        "history_from": (plan.week_start - dt.timedelta(weeks=plan.weeks)).isoformat(),
        "history_to": (plan.week_start - dt.timedelta(days=1)).isoformat(),
        "weeks": plan.weeks,
        "interval_minutes": plan.interval_minutes,
        "timezone": plan.timezone,
        "holidays": [d.isoformat() for d in plan.holidays],
        "queues": [
            {
                "queue": qp.queue.name,
                "label": qp.queue.label.get(lang),
                "service_level": {
                    "percent": qp.queue.service_level.percent,
                    "seconds": qp.queue.service_level.seconds,
                },
                "total_calls": _round(sum(r.calls for r in qp.rows), 1),
                "peak_agents": max((r.agents_needed for r in qp.rows), default=0),
                "intervals": [
                    {
                        "start": r.start.isoformat(),
                        "calls": _round(r.calls),
                        "aht_seconds": _round(r.aht_seconds, 1),
                        "traffic_erlangs": _round(r.traffic_erlangs, 3),
                        "agents_needed": r.agents_needed,
                        "agents_scheduled": r.agents_scheduled,
                        "service_level": _round(r.service_level, 4),
                        "asa_seconds": _round(r.asa_seconds, 1),
                        "p_abandon": _round(r.p_abandon, 4),
                        "basis": r.basis,
                    }
                    for r in qp.rows
                ],
            }
            for qp in plan.queues
        ],
        "signed_in": [
            {
                "start": s.start.isoformat(),
                "agents": _round(s.agents),
                "history_agents": _round(s.history_agents),
                "agents_needed": needed.get(s.start.isoformat(), 0),
            }
            for s in plan.signed_in
        ],
    }


CSV_COLUMNS = (
    "queue",
    "start",
    "calls",
    "aht_seconds",
    "traffic_erlangs",
    "agents_needed",
    "agents_scheduled",
    "service_level",
    "asa_seconds",
    "p_abandon",
    "basis",
)


def _as_csv(body: dict[str, Any]) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 with a BOM (as reports/export.py)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for q in body["queues"]:
        for r in q["intervals"]:
            writer.writerow([q["queue"], *("" if r[c] is None else r[c] for c in CSV_COLUMNS[1:])])
    return out.getvalue()


@router.get("/staffing", responses=error_responses(401, 403, 422))
async def staffing(
    services: ServicesDep,
    user: Reader,
    queue: Annotated[list[str] | None, Query(max_length=50)] = None,
    week_start: dt.date | None = None,
    weeks: Annotated[int | None, Query(ge=1, le=MAX_WEEKS)] = None,
    lang: Literal["zh", "en"] = "zh",
    format: Literal["json", "csv"] = "json",
) -> Response:
    s = services.settings
    now = services.clock.now()
    if week_start is None:
        today = now.astimezone(ZoneInfo(s.center.timezone)).date()
        week_start = today + dt.timedelta(days=7 - today.weekday())
    history = weeks or s.staffing.history_weeks
    # Compared without subtracting from week_start: 0001-01-01 minus weeks overflows.
    if week_start < EARLIEST + dt.timedelta(weeks=history) or week_start > LATEST - WEEK_TAIL:
        raise ApiError(
            422,
            "invalid_range",
            f"the history and the week must lie between {EARLIEST} and {LATEST}",
        )
    configured = {q.name: q for q in s.queues}
    unknown = [name for name in queue or [] if name not in configured]
    if unknown:
        raise ApiError(
            422, "unknown_queue", f"unknown queue(s) {unknown}: one of {sorted(configured)}"
        )
    chosen = [configured[n] for n in dict.fromkeys(queue)] if queue else list(s.queues)
    service = StaffingService(services.engine, s)
    plan = await service.plan(week_start, history, chosen, now)
    body = _as_json(plan, lang)
    if format == "csv":
        name = f"staffing-{plan.week_start}"
        return Response(
            _as_csv(body),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return JSONResponse(body)
