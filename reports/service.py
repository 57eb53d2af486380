"""Run a report: the SQL aggregates per (bucket, key), merged into one table.

`ReportService(engine, settings)` is what the API and the benchmark call;
`ReportResult.rows()` gives the derived metrics (reports/metrics.py definitions).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.config import Settings
from reports.intervals import Interval, aware, buckets, split_stretch
from reports.metrics import Aggregates, Metrics, Thresholds, derive, state_aggregates
from reports.sql import (
    Key,
    ReportQuery,
    aggregates_of,
    calls_statement,
    row_key,
    states_applicable,
    states_crossing_statement,
    states_inside_statement,
    surveys_statement,
    tickets_statement,
)


def thresholds_from(settings: Settings) -> Thresholds:
    return Thresholds(
        short_abandon_seconds=settings.reports.short_abandon_seconds,
        service_seconds=tuple((q.name, float(q.service_level.seconds)) for q in settings.queues),
    )


@dataclass(frozen=True, slots=True)
class ReportRow:
    bucket: dt.datetime  # aware, center time zone
    key: str
    metrics: Metrics


@dataclass
class ReportResult:
    query: ReportQuery
    cells: dict[Key, Aggregates] = field(default_factory=dict)

    def add(self, key: Key, value: Aggregates) -> None:
        current = self.cells.get(key)
        self.cells[key] = value if current is None else current + value

    def keys(self) -> list[str]:
        return sorted({k for _, k in self.cells})

    def rows(self, *, fill_empty: bool = False) -> list[ReportRow]:
        """One row per (bucket, key) in time then key order; `fill_empty` adds zero rows
        for buckets without data (a chart's x axis must not skip days)."""
        zone = self.query.range.zone
        cells = dict(self.cells)
        if fill_empty:
            for b in buckets(self.query.range, self.query.interval):
                for k in self.keys() or [""]:
                    cells.setdefault((b, k), Aggregates())
        return [ReportRow(aware(b, zone), k, derive(a)) for (b, k), a in sorted(cells.items())]

    def by_key(self) -> dict[str, Aggregates]:
        """The whole range per key (bar and pie charts)."""
        out: dict[str, Aggregates] = defaultdict(Aggregates)
        for (_, k), a in self.cells.items():
            out[k] = out[k] + a
        return dict(out)

    def total(self) -> Aggregates:
        total = Aggregates()
        for a in self.cells.values():
            total = total + a
        return total


class ReportService:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self.thresholds = thresholds_from(settings)

    async def run(self, query: ReportQuery, *, now: dt.datetime | None = None) -> ReportResult:
        result = ReportResult(query)
        async with self._engine.connect() as conn:
            await self._collect(conn, query, result, now or dt.datetime.now(dt.UTC))
        return result

    async def _collect(
        self, conn: AsyncConnection, q: ReportQuery, result: ReportResult, now: dt.datetime
    ) -> None:
        dialect = conn.dialect.name
        statements = [calls_statement(q, self.thresholds, dialect), surveys_statement(q, dialect)]
        tickets = tickets_statement(q, dialect)
        if tickets is not None:
            statements.append(tickets)
        if states_applicable(q):
            statements.append(states_inside_statement(q, dialect))
        for stmt in statements:
            for row in await conn.execute(stmt):
                result.add(row_key(row, q.interval), aggregates_of(row))
        if states_applicable(q):
            rows = await conn.execute(states_crossing_statement(q, dialect))
            for key, state, started, ended in rows:
                for bucket, seconds in _clip(q, started, ended, now):
                    result.add(
                        (bucket, "" if key is None else str(key)),
                        state_aggregates(str(state), seconds),
                    )


def _clip(
    q: ReportQuery, started: dt.datetime, ended: dt.datetime | None, now: dt.datetime
) -> Iterator[tuple[dt.datetime, float]]:
    start = max(started, q.range.start_utc)
    end = min(ended or now, q.range.end_utc)
    if end <= start:
        return iter(())
    return split_stretch(start, end, q.interval, q.range.zone)


__all__ = ["Interval", "ReportQuery", "ReportResult", "ReportRow", "ReportService"]
