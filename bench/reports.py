"""Reports benchmark: a year of calls (1,000,000 by default) in SQLite and PostgreSQL.

    .venv/bin/python bench/reports.py [--calls N] [--repeat R] [--regenerate]

Runs, on both databases, through reports.service.ReportService (the code the API uses):
  - the daily report per queue for the year,
  - the hourly report per queue for one month (2025-06),
  - the daily report per agent for the year (calls + agent state time -> occupancy),
and the same metrics by a straightforward pandas/NumPy pass over the same rows held in
memory (the floor; reading them out of the database is not counted). Prints the best of
R runs in seconds side by side, the ratio to the floor, and checks that every number
(counts exactly, sums to 1e-6, derived metrics exactly) is the same.
Targets: year on PostgreSQL <= 2 s and <= 3x the floor.

The generated data are cached between runs (bench/reports_data.py describes them): the
SQLite file under the Hotline cache dir, and a PostgreSQL data directory under
/var/tmp/hotline-bench (the postgres user must reach it; /root/.cache is private).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.reports_data import TZ, YEAR, Generated, generate, load_postgres, load_sqlite  # noqa: E402
from db.engine import make_async_engine  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from devtools.services import postgres as pgdev  # noqa: E402
from devtools.services.net import cache_dir, free_port  # noqa: E402
from kernel.config import load_settings  # noqa: E402
from reports.intervals import Interval, ReportRange  # noqa: E402
from reports.metrics import Aggregates, Thresholds, derive  # noqa: E402
from reports.service import ReportService, thresholds_from  # noqa: E402
from reports.sql import Dimension, Key, ReportQuery  # noqa: E402

DATA_VERSION = 2
PG_CACHE = Path("/var/tmp/hotline-bench")


# -- the floor -------------------------------------------------------------------------


def floor_report(g: Generated, q: ReportQuery, th: Thresholds) -> pd.DataFrame:
    """reports/metrics.py's definitions as vectorized pandas over in-memory rows: one
    row of sums per (bucket, key)."""
    c = g.calls
    c = c[(c.started_at >= q.range.start_utc) & (c.started_at < q.range.end_utc)]
    bucket = _bucket(c.started_at, q.interval)
    key = c.queue if q.dimension is Dimension.QUEUE else c.agent_id.astype("string")
    queued = c.queued_at.notna()
    answered = queued & c.answered_at.notna()
    sl = c.queue.map(dict(th.service_seconds)).fillna(th.default_service_seconds)
    abandoned = queued & c.answered_at.isna() & (c.disposition == "abandoned_queue")
    short = c.wait_seconds < th.short_abandon_seconds
    fcr = c.first_contact_resolution
    frame = pd.DataFrame(
        {
            "offered": queued,
            "answered": answered,
            "answered_in_sl": answered & (c.wait_seconds <= sl),
            "abandoned": abandoned & ~short,
            "short_abandoned": abandoned & short,
            "callbacks": c.disposition == "callback_requested",
            "overflowed": c.disposition == "overflowed",
            "wait_answered_seconds": c.wait_seconds.where(answered, 0.0),
            "talk_seconds": c.talk_seconds.where(answered, 0.0),
            "hold_seconds": c.hold_seconds.where(answered, 0.0),
            "wrap_seconds": c.wrap_seconds.where(answered, 0.0),
            "transfers": c.transfers,
            "fcr_known": answered & fcr.notna(),
            "fcr_resolved": answered & fcr.fillna(False),
            "bucket": bucket,
            "key": key.fillna(""),
        }
    )
    sums = frame.groupby(["bucket", "key"], sort=False).sum()
    if q.dimension is Dimension.AGENT:
        s = g.states
        s = s[(s.started_at >= q.range.start_utc) & (s.started_at < q.range.end_utc)]
        seconds = (s.ended_at - s.started_at).dt.total_seconds()
        states = (
            pd.DataFrame(
                {
                    "busy_seconds": seconds.where(s.state.isin(["on_call", "wrap_up"]), 0.0),
                    "logged_in_seconds": seconds.where(s.state != "logged_out", 0.0),
                    "bucket": _bucket(s.started_at, q.interval),
                    "key": s.user_id.astype("string"),
                }
            )
            .groupby(["bucket", "key"], sort=False)
            .sum()
        )
        sums = sums.join(states, how="outer")
    return sums


def _bucket(times: pd.Series, interval: Interval) -> pd.Series:
    local = times.dt.tz_convert(TZ).dt.tz_localize(None)
    freq = {Interval.DAY: "D", Interval.HOUR: "h", Interval.MIN15: "15min"}.get(interval)
    if freq is None:
        months: pd.Series = local.dt.to_period("M").dt.to_timestamp()
        return months
    floored: pd.Series = local.dt.floor(freq)
    return floored


def _cells(sums: pd.DataFrame) -> dict[Key, Aggregates]:
    names = set(Aggregates().as_dict())
    out: dict[Key, Aggregates] = {}
    for index, row in sums.fillna(0).iterrows():
        bucket, key = cast(tuple[Any, Any], index)
        values: dict[str, Any] = {}
        for name, value in row.items():
            if name in names:
                values[str(name)] = float(value) if str(name).endswith("_seconds") else int(value)
        out[(pd.Timestamp(bucket).to_pydatetime(), str(key))] = Aggregates(**values)
    return out


# -- comparison ------------------------------------------------------------------------


def compare(sql: dict[Key, Aggregates], floor: dict[Key, Aggregates]) -> list[str]:
    problems: list[str] = []
    empty = Aggregates()
    sql = {k: v for k, v in sql.items() if v != empty}
    floor = {k: v for k, v in floor.items() if v != empty}
    if set(sql) != set(floor):
        problems.append(f"groups differ: {len(set(sql) ^ set(floor))} not in both")
    for key in set(sql) & set(floor):
        a, b = sql[key].as_dict(), floor[key].as_dict()
        for name, value in a.items():
            other = b[name]
            same = (
                abs(value - other) <= 1e-6 * max(1.0, abs(value))
                if isinstance(value, float)
                else value == other
            )
            if not same:
                problems.append(f"{key} {name}: sql {value} vs floor {other}")
        if derive(sql[key]) != derive(floor[key]):
            problems.append(f"{key}: derived metrics differ")
    return problems


# -- databases -------------------------------------------------------------------------


class CachedPostgres(pgdev.PostgresServer):
    """A postmaster over a data directory that survives the run (the loaded year)."""

    def start(self, timeout: float = 30.0) -> None:
        if not (self.datadir / "PG_VERSION").exists():
            super().start(timeout)
            return
        settings = dict(pgdev._SERVER_SETTINGS, port=str(self.port))
        settings["unix_socket_directories"] = str(self.socket_dir)
        settings["max_parallel_workers_per_gather"] = "2"
        args = [pgdev._binary("postgres"), "-D", str(self.datadir)]
        for k, v in settings.items():
            args += ["-c", f"{k}={v}"]
        who = pgdev._demote()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                user=who.user,
                group=who.group,
                extra_groups=who.extra_groups,
            )
        self._wait_ready(timeout)

    def stop(self, timeout: float = 20.0) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(2)
            proc.wait(timeout=timeout)


def sqlite_database(g: Generated, n: int, regenerate: bool) -> str:
    path = cache_dir() / "bench-reports" / f"calls-{n}-v{DATA_VERSION}.db"
    if regenerate or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        t = time.perf_counter()
        upgrade(f"sqlite:///{partial}")
        load_sqlite(str(partial), g)
        partial.rename(path)
        print(f"  generated SQLite {path} in {time.perf_counter() - t:.0f} s")
    return f"sqlite:///{path}"


def postgres_database(g: Generated, n: int, regenerate: bool) -> tuple[CachedPostgres, str]:
    workdir = PG_CACHE / f"pg-{n}-v{DATA_VERSION}"
    if regenerate and workdir.exists():
        shutil.rmtree(workdir)
    fresh = not (workdir / "data" / "PG_VERSION").exists()
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o755)
    PG_CACHE.chmod(0o755)
    server = CachedPostgres(free_port(), workdir)
    server.start(timeout=60)
    url = server.url("bench")
    if fresh:
        t = time.perf_counter()
        server.create_database("bench")
        upgrade(url)
        load_postgres(server.url("bench").replace("postgresql://", "postgresql://", 1), g)
        print(f"  generated PostgreSQL {workdir} in {time.perf_counter() - t:.0f} s")
    return server, url


# -- running ---------------------------------------------------------------------------


def queries() -> list[tuple[str, ReportQuery]]:
    year = ReportRange(dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31), TZ)
    june = ReportRange(dt.date(YEAR, 6, 1), dt.date(YEAR, 6, 30), TZ)
    return [
        ("year, daily, per queue", ReportQuery(year, Interval.DAY, Dimension.QUEUE)),
        ("June, hourly, per queue", ReportQuery(june, Interval.HOUR, Dimension.QUEUE)),
        ("year, daily, per agent", ReportQuery(year, Interval.DAY, Dimension.AGENT)),
    ]


async def time_sql(url: str, q: ReportQuery, repeat: int) -> tuple[float, dict[Key, Aggregates]]:
    settings = load_settings(REPO / "config.yaml", env={})
    engine = make_async_engine(url)
    try:
        service = ReportService(engine, settings)
        await service.run(q)  # warm: connection, plan cache, OS cache
        best, cells = float("inf"), {}
        for _ in range(repeat):
            t = time.perf_counter()
            result = await service.run(q, now=dt.datetime(YEAR + 1, 1, 2, tzinfo=dt.UTC))
            best = min(best, time.perf_counter() - t)
            cells = result.cells
        return best, cells
    finally:
        await engine.dispose()


def time_floor(
    g: Generated, q: ReportQuery, th: Thresholds, repeat: int
) -> tuple[float, dict[Key, Aggregates]]:
    best, sums = float("inf"), pd.DataFrame()
    for _ in range(repeat):
        t = time.perf_counter()
        sums = floor_report(g, q, th)
        best = min(best, time.perf_counter() - t)
    return best, _cells(sums)  # converting for the comparison is not timed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    t = time.perf_counter()
    g = generate(args.calls)
    print(f"{len(g.calls):,} calls and {len(g.states):,} agent state stretches generated "
          f"in {time.perf_counter() - t:.1f} s")  # fmt: skip
    th = thresholds_from(load_settings(REPO / "config.yaml", env={}))
    sqlite_url = sqlite_database(g, args.calls, args.regenerate)
    server, pg_url = postgres_database(g, args.calls, args.regenerate)
    failures = 0
    try:
        print(f"\n{'report':26} {'rows':>6} {'floor s':>8} {'SQLite s':>9} {'ratio':>6} "
              f"{'PostgreSQL s':>13} {'ratio':>6}  same numbers")  # fmt: skip
        for name, q in queries():
            floor_s, floor_cells = time_floor(g, q, th, args.repeat)
            lite_s, lite = asyncio.run(time_sql(sqlite_url, q, args.repeat))
            pg_s, pg = asyncio.run(time_sql(pg_url, q, args.repeat))
            problems = compare(lite, floor_cells) + compare(pg, floor_cells)
            failures += bool(problems)
            print(f"{name:26} {len(floor_cells):>6} {floor_s:>8.3f} {lite_s:>9.3f} "
                  f"{lite_s / floor_s:>5.1f}x {pg_s:>13.3f} {pg_s / floor_s:>5.1f}x  "
                  f"{'yes' if not problems else 'NO: ' + '; '.join(problems[:3])}")  # fmt: skip
    finally:
        server.stop()
    return 1 if failures else 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
