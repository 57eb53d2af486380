"""Run a report: the SQL aggregates per (bucket, key), merged into one table.

`ReportService(engine, settings)` is what the API and the benchmark call;
`ReportResult.rows()` gives the derived metrics (reports/metrics.py definitions).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.config import Settings
from reports.intervals import Interval, aware, buckets, split_stretch
from reports.metrics import Aggregates, Metrics, Thresholds, derive, state_aggregates
from reports.sql import (
    Key,
    ReportQuery,
    bucket_value,
    calls_statement,
    surveys_statement,
    tickets_statement,
)
from reports.sql_states import states_applicable, states_statement


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


_PG_REPORT_SETTINGS = sa.text(
    "SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)"
)


class ReportService:
    """Runs each source's statement on its own connection, concurrently: PostgreSQL
    uses both cores for calls and agent time; SQLite readers run in parallel (WAL)."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self.thresholds = thresholds_from(settings)

    async def run(self, query: ReportQuery, *, now: dt.datetime | None = None) -> ReportResult:
        dialect = self._engine.dialect.name
        statements = [
            calls_statement(query, self.thresholds, dialect),
            surveys_statement(query, dialect),
        ]
        tickets = tickets_statement(query, dialect)
        if tickets is not None:
            statements.append(tickets)
        jobs = [self._fetch(stmt) for stmt in statements]
        if states_applicable(query):
            jobs.append(self._fetch(states_statement(query, dialect)))
        results = await asyncio.gather(*jobs)
        result = ReportResult(query)
        reader = _RowReader(query.interval, query.range.zone)
        for names, rows in results[: len(statements)]:
            fields = names[2:]  # after bucket, key: Aggregates field names
            for row in rows:
                values = {name: row[i] or 0 for i, name in enumerate(fields, start=2)}
                result.add(reader.key(row[0], row[1]), Aggregates(**values))
        if states_applicable(query):
            _add_states(result, reader, results[-1][1], now or dt.datetime.now(dt.UTC))
        return result

    async def _fetch(self, stmt: Any) -> tuple[tuple[str, ...], list[Any]]:
        async with self._engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                # JIT compiling costs more than it saves on these one-pass aggregates; the
                # GROUP BY sorts fit in memory instead of spilling to disk.
                await conn.execute(_PG_REPORT_SETTINGS)
            result = await conn.execute(stmt)
            return tuple(result.keys()), list(result.all())


class _RowReader:
    """Bucket values of result rows -> cell keys, memoized (thousands of rows, few buckets)."""

    def __init__(self, interval: Interval, zone: ZoneInfo) -> None:
        self._interval = interval
        self._zone = zone
        self._buckets: dict[Any, dt.datetime] = {}

    def key(self, bucket_raw: Any, key: Any) -> Key:
        bucket = self._buckets.get(bucket_raw)
        if bucket is None:
            bucket = bucket_value(bucket_raw, self._interval, self._zone)
            self._buckets[bucket_raw] = bucket
        return bucket, "" if key is None else str(key)


def _add_states(
    result: ReportResult, reader: _RowReader, rows: list[Any], now: dt.datetime
) -> None:
    q = result.query
    for row in rows:
        if row.split_id is None:
            busy, logged_in = float(row.busy_seconds or 0), float(row.logged_in_seconds or 0)
            result.add(
                reader.key(row.bucket, row.key),
                Aggregates(busy_seconds=busy, logged_in_seconds=logged_in),
            )
            continue
        key = "" if row.key is None else str(row.key)
        for bucket, seconds in _clip(q, row.started_at, row.ended_at, now):
            result.add((bucket, key), state_aggregates(str(row.state), seconds))


def _clip(
    q: ReportQuery, started: dt.datetime, ended: dt.datetime | None, now: dt.datetime
) -> Iterator[tuple[dt.datetime, float]]:
    start = max(started, q.range.start_utc)
    end = min(ended or now, q.range.end_utc)
    if end <= start:
        return iter(())
    return split_stretch(start, end, q.interval, q.range.zone)


__all__ = ["Interval", "ReportQuery", "ReportResult", "ReportRow", "ReportService"]
