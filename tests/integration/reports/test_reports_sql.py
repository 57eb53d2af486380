"""The SQL aggregates equal the pure definitions (reports/metrics.py) over the same rows,
on SQLite and PostgreSQL, for every interval and dimension, with and without filters."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import metadata
from kernel.config import load_settings
from reports.intervals import Interval, ReportRange, bucket_of, split_stretch
from reports.metrics import (
    Aggregates,
    CallFacts,
    call_aggregates,
    state_aggregates,
    survey_aggregates,
    ticket_aggregates,
)
from reports.service import ReportService, thresholds_from
from reports.sql import Dimension, Key, ReportQuery

REPO = Path(__file__).resolve().parents[3]
SETTINGS = load_settings(REPO / "config.yaml", env={})
TZ = SETTINGS.center.timezone
QUEUES = ["billing", "repair", "emergency", "general", None]
CATEGORIES = ["repair", "complaint", "inquiry"]
DISPOSITIONS = [
    "answered",
    "answered",
    "answered",
    "abandoned_queue",
    "callback_requested",
    "overflowed",
    "abandoned_ivr",
    "self_service",
    "in_progress",
]
# Range: 2026-03-30 .. 2026-04-02 local; rows start a day before and end a day after.
RANGE = ReportRange(dt.date(2026, 3, 30), dt.date(2026, 4, 2), TZ)
NOW = dt.datetime(2026, 4, 2, 6, 0, tzinfo=dt.UTC)


@dataclass
class Dataset:
    calls: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)  # ticket_calls
    tickets: list[dict[str, Any]] = field(default_factory=list)
    surveys: list[dict[str, Any]] = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)


def make_dataset(seed: int = 7, n: int = 600) -> Dataset:
    rnd = random.Random(seed)
    d = Dataset()
    for i in range(1, 6):
        d.users.append(
            dict(
                id=i,
                username=f"agent{i:02d}",
                display_name=f"座席{i}",
                role="agent",
                extension=f"10{i:02d}",
                languages=["zh"],
                password_hash="x",
            )
        )
    start = RANGE.start_utc - dt.timedelta(days=1)
    span = (RANGE.end_utc - start).total_seconds() + 86400
    for i in range(1, n + 1):
        began = start + dt.timedelta(seconds=rnd.uniform(0, span))
        disp = rnd.choice(DISPOSITIONS)
        queued = disp not in ("abandoned_ivr", "self_service") and rnd.random() > 0.05
        answered = disp == "answered"
        wait = round(rnd.choice([rnd.uniform(0, 6), rnd.uniform(0, 40), 10.0, 20.0]), 3)
        d.calls.append(
            dict(
                id=i,
                linkedid=f"r{i}",
                started_at=began,
                queued_at=began + dt.timedelta(seconds=20) if queued else None,
                answered_at=began + dt.timedelta(seconds=20 + wait) if answered else None,
                queue=rnd.choice(QUEUES),
                skill=rnd.choice(QUEUES),
                agent_id=rnd.randint(1, 5) if answered else None,
                disposition=disp,
                wait_seconds=wait if queued else 0.0,
                talk_seconds=round(rnd.uniform(10, 600), 3) if answered else 0.0,
                hold_seconds=round(rnd.choice([0, 0, rnd.uniform(0, 90)]), 3) if answered else 0.0,
                wrap_seconds=round(rnd.uniform(0, 60), 3) if answered else 0.0,
                transfers=rnd.choice([0, 0, 0, 1, 2]),
                first_contact_resolution=rnd.choice([None, True, False]) if answered else None,
                ivr_path=[],
                agents=[],
            )
        )
    for t in range(1, n // 3):
        created = start + dt.timedelta(seconds=rnd.uniform(0, span))
        d.tickets.append(
            dict(
                id=t,
                number=f"GD-{t:06d}",
                category=rnd.choice(CATEGORIES),
                department="service_center",
                subject="燃气表故障",
                created_at=created,
                updated_at=created,
                created_by_id=rnd.choice([None, 1, 2, 3]),
                sla_response_met=rnd.choice([None, True, False]),
                sla_resolution_met=rnd.choice([None, True, False]),
            )
        )
        for call_id in rnd.sample(range(1, n + 1), rnd.choice([0, 1, 1, 2])):
            d.links.append(dict(ticket_id=t, call_id=call_id, linked_at=created))
    for s in range(1, n // 2):
        call = rnd.choice(d.calls)
        ticket = rnd.choice(d.tickets)
        d.surveys.append(
            dict(
                id=s,
                call_id=call["id"] if rnd.random() < 0.8 else None,
                ticket_id=ticket["id"] if rnd.random() < 0.7 else None,
                agent_id=call["agent_id"],
                method="ivr",
                rating=rnd.choice([None, 1, 2, 3, 4, 5, 5]),
                at=call["started_at"] + dt.timedelta(minutes=rnd.uniform(5, 300)),
            )
        )
    states = ["available", "on_call", "wrap_up", "not_ready", "reserved", "logged_out"]
    for user in range(1, 6):
        cursor = start
        while cursor < NOW:
            length = dt.timedelta(seconds=rnd.choice([30, 400, 1000, 4000, 20000]))
            ended: dt.datetime | None = cursor + length
            assert ended is not None
            if ended >= NOW:
                ended = None
            d.states.append(
                dict(user_id=user, state=rnd.choice(states), started_at=cursor, ended_at=ended)
            )
            if ended is None:
                break
            cursor = ended
    return d


async def insert(engine: AsyncEngine, d: Dataset) -> None:
    t = metadata.tables
    async with engine.begin() as conn:
        await conn.execute(sa.insert(t["users"]), d.users)
        await conn.execute(sa.insert(t["calls"]), d.calls)
        await conn.execute(sa.insert(t["tickets"]), d.tickets)
        if d.links:
            await conn.execute(sa.insert(t["ticket_calls"]), d.links)
        await conn.execute(sa.insert(t["surveys"]), d.surveys)
        await conn.execute(sa.insert(t["agent_state_history"]), d.states)


def in_range(at: dt.datetime) -> bool:
    return RANGE.start_utc <= at < RANGE.end_utc


def reference(d: Dataset, q: ReportQuery) -> dict[Key, Aggregates]:
    """The pure computation: bucket_of + the metrics functions over the rows."""
    zone, thresholds = RANGE.zone, thresholds_from(SETTINGS)
    cells: dict[Key, Aggregates] = defaultdict(Aggregates)
    tickets = {t["id"]: t for t in d.tickets}
    calls = {c["id"]: c for c in d.calls}
    categories: dict[int, list[str]] = defaultdict(list)
    for link in d.links:
        categories[link["call_id"]].append(tickets[link["ticket_id"]]["category"])

    def ok(value: Any, allowed: tuple[Any, ...]) -> bool:
        return not allowed or value in allowed

    def call_ok(c: dict[str, Any]) -> bool:
        cats = categories[c["id"]]
        return (
            ok(c["queue"], q.queues)
            and ok(c["skill"], q.skills)
            and ok(c["agent_id"], q.agent_ids)
            and (not q.categories or any(x in q.categories for x in cats))
        )

    def add(at: dt.datetime, key: Any, a: Aggregates) -> None:
        k = (bucket_of(at, q.interval, zone), "" if key is None else str(key))
        cells[k] = cells[k] + a

    keyers: dict[Dimension, Callable[[dict[str, Any]], list[Any]]] = {
        Dimension.TOTAL: lambda c: [""],
        Dimension.QUEUE: lambda c: [c["queue"]],
        Dimension.SKILL: lambda c: [c["skill"]],
        Dimension.AGENT: lambda c: [c["agent_id"]],
        Dimension.CATEGORY: lambda c: [x for x in categories[c["id"]] if ok(x, q.categories)],
    }
    for c in d.calls:
        if not in_range(c["started_at"]) or not call_ok(c):
            continue
        facts = CallFacts(
            started_at=c["started_at"],
            queue=c["queue"],
            queued=c["queued_at"] is not None,
            answered=c["answered_at"] is not None,
            disposition=c["disposition"],
            wait_seconds=c["wait_seconds"],
            talk_seconds=c["talk_seconds"],
            hold_seconds=c["hold_seconds"],
            wrap_seconds=c["wrap_seconds"],
            transfers=c["transfers"],
            first_contact_resolution=c["first_contact_resolution"],
        )
        for key in keyers[q.dimension](c):
            add(c["started_at"], key, call_aggregates(facts, thresholds))
    for s in d.surveys:
        if not in_range(s["at"]) or s["rating"] is None:
            continue
        call = calls.get(s["call_id"])
        ticket = tickets.get(s["ticket_id"])
        if (q.queues or q.skills or q.dimension in (Dimension.QUEUE, Dimension.SKILL)) and not call:
            continue
        if (q.categories or q.dimension is Dimension.CATEGORY) and not ticket:
            continue
        if call and not (ok(call["queue"], q.queues) and ok(call["skill"], q.skills)):
            continue
        if not ok(s["agent_id"], q.agent_ids):
            continue
        if ticket and not ok(ticket["category"], q.categories):
            continue
        key = {
            Dimension.TOTAL: "",
            Dimension.QUEUE: call and call["queue"],
            Dimension.SKILL: call and call["skill"],
            Dimension.AGENT: s["agent_id"],
            Dimension.CATEGORY: ticket and ticket["category"],
        }[q.dimension]
        add(s["at"], key, survey_aggregates(s["rating"]))
    if not (q.queues or q.skills or q.dimension in (Dimension.QUEUE, Dimension.SKILL)):
        for t in d.tickets:
            if not in_range(t["created_at"]) or not ok(t["created_by_id"], q.agent_ids):
                continue
            if not ok(t["category"], q.categories):
                continue
            key = {Dimension.TOTAL: "", Dimension.AGENT: t["created_by_id"]}.get(
                q.dimension, t["category"]
            )
            add(
                t["created_at"],
                key,
                ticket_aggregates(t["sla_response_met"], t["sla_resolution_met"]),
            )
    if q.dimension in (Dimension.TOTAL, Dimension.AGENT) and not (
        q.queues or q.skills or q.categories
    ):
        for st in d.states:
            if not ok(st["user_id"], q.agent_ids):
                continue
            start = max(st["started_at"], RANGE.start_utc)
            end = min(st["ended_at"] or NOW, RANGE.end_utc)
            key = "" if q.dimension is Dimension.TOTAL else st["user_id"]
            if end > start:
                for bucket, seconds in split_stretch(start, end, q.interval, zone):
                    k = (bucket, str(key))
                    cells[k] = cells[k] + state_aggregates(st["state"], seconds)
    return {k: v for k, v in cells.items() if v != Aggregates()}


def assert_same(got: dict[Key, Aggregates], want: dict[Key, Aggregates]) -> None:
    got = {k: v for k, v in got.items() if v != Aggregates()}
    assert sorted(got) == sorted(want)
    for key, expected in want.items():
        g, w = got[key].as_dict(), expected.as_dict()
        for name, value in w.items():
            if isinstance(value, float):
                assert g[name] == pytest.approx(value, abs=1e-3), (key, name)
            else:
                assert g[name] == value, (key, name)


@pytest.fixture
async def loaded(db_engine: AsyncEngine) -> Dataset:
    d = make_dataset()
    await insert(db_engine, d)
    return d


@pytest.mark.parametrize("interval", list(Interval))
@pytest.mark.parametrize("dimension", list(Dimension))
async def test_sql_aggregates_equal_the_pure_definitions(
    db_engine: AsyncEngine, loaded: Dataset, interval: Interval, dimension: Dimension
) -> None:
    q = ReportQuery(RANGE, interval, dimension)
    result = await ReportService(db_engine, SETTINGS).run(q, now=NOW)
    assert result.total().offered > 50  # the data set is not trivially empty
    assert_same(result.cells, reference(loaded, q))


@pytest.mark.parametrize(
    "filters",
    [
        {"queues": ("billing", "repair")},
        {"skills": ("general",)},
        {"agent_ids": (1, 3)},
        {"categories": ("repair",)},
        {"queues": ("billing",), "agent_ids": (2,)},
    ],
    ids=["queues", "skill", "agents", "category", "queue+agent"],
)
@pytest.mark.parametrize("dimension", [Dimension.TOTAL, Dimension.AGENT, Dimension.CATEGORY])
async def test_filters_match_the_pure_definitions(
    db_engine: AsyncEngine, loaded: Dataset, filters: dict[str, Any], dimension: Dimension
) -> None:
    q = ReportQuery(RANGE, Interval.HOUR, dimension, **filters)
    result = await ReportService(db_engine, SETTINGS).run(q, now=NOW)
    assert_same(result.cells, reference(loaded, q))
