"""Results of campaigns, pure: rates, survey averages per question, the contacts' CSV
(UTF-8 with a BOM so Excel opens Chinese right) and the report by interval (day, ISO
week, month in the center's time zone)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

INTERVALS = ("day", "week", "month")
CSV_COLUMNS = (
    "number", "name", "state", "attempts", "last_outcome", "keys", "confirmed", "opted_out",
    "agent", "ticket", "call", "answers",
)  # fmt: skip


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def survey_averages(
    questions: Sequence[Mapping[str, Any]], answers: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Per question of the script: how many answered it and the average answer."""
    keys = [str(q.get("key")) for q in questions]
    sums = dict.fromkeys(keys, 0.0)
    counts = dict.fromkeys(keys, 0)
    for one in answers:
        for key in keys:
            value = one.get(key)
            if isinstance(value, bool):
                continue
            try:
                number = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            sums[key] += number
            counts[key] += 1
    return [
        {
            "key": key,
            "text": str(q.get("text", "")),
            "count": counts[key],
            "average": round(sums[key] / counts[key], 2) if counts[key] else None,
        }
        for key, q in zip(keys, questions, strict=True)
    ]


def summary(
    totals: Mapping[str, int],
    states: Mapping[str, int],
    outcomes: Mapping[str, int],
    attempts: Mapping[str, int],
    survey: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    return {
        **totals,
        "reach_rate": rate(totals["reached"], totals["contacts"]),
        "confirmation_rate": rate(totals["confirmed"], totals["reached"]),
        "states": dict(states),
        "outcomes": dict(outcomes),
        "attempts_by_outcome": dict(attempts),
        "survey": survey,
    }


def contacts_csv(rows: Iterable[Mapping[str, Any]], survey_keys: Sequence[str] = ()) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CSV_COLUMNS, *survey_keys])
    for r in rows:
        answers = dict(r.get("answers") or {})
        writer.writerow(
            [
                r["number"], r["name"], r["state"], r["attempts"], r.get("last_outcome") or "",
                r.get("keys") or "", "1" if r.get("confirmed") else "0",
                "1" if r.get("opted_out") else "0", r.get("agent_name") or "",
                r.get("ticket_number") or "", r.get("call_linkedid") or "",
                json.dumps(answers, ensure_ascii=False, sort_keys=True) if answers else "",
                *(_cell(answers.get(k)) for k in survey_keys),
            ]
        )  # fmt: skip
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def bucket(at: dt.datetime, interval: str, zone: ZoneInfo) -> dt.date:
    """The local first day of the interval `at` falls in."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    day = at.astimezone(zone).date()
    if interval == "week":
        return day - dt.timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def report(
    attempts: Iterable[tuple[int, dt.datetime, str | None, bool]],
    names: Mapping[int, str],
    interval: str,
    timezone: str,
) -> list[dict[str, Any]]:
    """Attempts, answered attempts and answered attempts of confirmed contacts, per
    campaign per interval, oldest first."""
    zone = ZoneInfo(timezone)
    rows: dict[tuple[int, dt.date], dict[str, int]] = {}
    for campaign_id, at, outcome, confirmed in attempts:
        one = rows.setdefault(
            (campaign_id, bucket(at, interval, zone)),
            {"attempts": 0, "answered": 0, "confirmed": 0},
        )
        one["attempts"] += 1
        if outcome == "answered":
            one["answered"] += 1
            one["confirmed"] += int(confirmed)
    return [
        {
            "campaign_id": cid,
            "campaign": names.get(cid, ""),
            "interval": interval,
            "start": day.isoformat(),
            **counts,
            "answer_rate": rate(counts["answered"], counts["attempts"]),
        }
        for (cid, day), counts in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]


def report_csv(rows: Iterable[Mapping[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    columns = ("start", "campaign_id", "campaign", "attempts", "answered", "confirmed")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([r[c] for c in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
