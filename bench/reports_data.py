"""A year of a mid-size center's calls for bench/reports.py: generated with NumPy (seeded),
bulk-loaded into SQLite (executemany) and PostgreSQL (COPY).

Shape (Asia/Shanghai, 2025): ~2,700 calls a day, fewer on Sundays, peaks 09-11 and
14-16 with a thin night (emergency lines are 24x7); queues general 30 %, billing 25 %,
repair 20 %, business 10 %, complaint 8 %, emergency 4 %, english 3 %; 3 % self-service
and 1 % IVR hang-ups never queue; of the queued, ~8 % abandon (a third of them within 5
s), 2 % ask for a callback, 1 % overflow, the rest are answered by one of 120 agents
after an exponential wait (mean 25 s); talk lognormal (median ~3 min), hold on 20 % of
calls, wrap-up 5-40 s, transfers on 6 %, first-contact resolution known for 60 %.
Agents work 5 days a week in 8-hour shifts of half-hour state stretches.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

YEAR = 2025
TZ = "Asia/Shanghai"
AGENTS = 120
QUEUES = ["general", "billing", "repair", "business", "complaint", "emergency", "english"]
QUEUE_SHARE = [0.30, 0.25, 0.20, 0.10, 0.08, 0.04, 0.03]
HOUR_WEIGHT = np.array(
    [1, 1, 1, 1, 1, 2, 4, 10, 40, 70, 75, 65, 45, 50, 65, 70, 60, 50, 35, 25, 12, 6, 3, 2],
    dtype=float,
)
STATES = ["on_call", "wrap_up", "available", "not_ready", "reserved"]
STATE_SHARE = [0.50, 0.12, 0.25, 0.10, 0.03]

CALL_COLUMNS = [
    "id", "pbx_node", "linkedid", "direction", "caller_number", "dialed_number", "started_at",
    "queued_at", "answered_at", "ended_at", "ivr_path", "queue", "skill", "priority", "agent_id",
    "agents", "offers", "no_answers", "wait_seconds", "talk_seconds", "hold_seconds",
    "wrap_seconds", "disposition", "transfers", "first_contact_resolution", "last_seq",
    "updated_at",
]  # fmt: skip
STATE_COLUMNS = ["user_id", "state", "started_at", "ended_at"]


@dataclass
class Generated:
    calls: pd.DataFrame  # one row per call, timestamps datetime64[us, UTC]
    states: pd.DataFrame


def generate(n: int, seed: int = 2025) -> Generated:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(f"{YEAR}-01-01", tz=TZ)
    days = pd.date_range(start, periods=365, freq="D")
    day_weight = np.where(days.dayofweek == 6, 0.6, np.where(days.dayofweek == 5, 0.8, 1.0))
    day = rng.choice(365, size=n, p=day_weight / day_weight.sum())
    hour = rng.choice(24, size=n, p=HOUR_WEIGHT / HOUR_WEIGHT.sum())
    second = rng.uniform(0, 3600, size=n)
    local_ns = days.as_unit("ns").asi8[day] + (hour * 3600 + second).astype("int64") * 1_000_000_000
    order = np.argsort(local_ns, kind="stable")
    started = pd.to_datetime(local_ns[order], utc=True)  # the epoch ns are absolute

    queue = np.array(QUEUES)[rng.choice(len(QUEUES), size=n, p=QUEUE_SHARE)]
    outcome = rng.random(n)
    not_queued = outcome < 0.04
    self_service = outcome < 0.03
    r2 = rng.random(n)
    abandoned = ~not_queued & (r2 < 0.08)
    callback = ~not_queued & (r2 >= 0.08) & (r2 < 0.10)
    overflowed = ~not_queued & (r2 >= 0.10) & (r2 < 0.11)
    answered = ~not_queued & (r2 >= 0.11)
    disposition = np.full(n, "answered", dtype=object)
    disposition[abandoned] = "abandoned_queue"
    disposition[callback] = "callback_requested"
    disposition[overflowed] = "overflowed"
    disposition[not_queued] = "abandoned_ivr"
    disposition[self_service] = "self_service"

    ivr = pd.to_timedelta(rng.uniform(10, 60, n), unit="s")
    wait = np.round(rng.exponential(25, n), 3)
    short = abandoned & (rng.random(n) < 0.33)
    wait[short] = np.round(rng.uniform(0, 5, short.sum()), 3)
    wait[not_queued] = 0.0
    talk = np.where(answered, np.round(rng.lognormal(np.log(180), 0.6, n), 3), 0.0)
    hold = np.where(answered & (rng.random(n) < 0.2), np.round(rng.exponential(40, n), 3), 0.0)
    wrap = np.where(answered, np.round(rng.uniform(5, 40, n), 3), 0.0)
    transfers = np.where(answered, rng.choice([0, 1, 2], size=n, p=[0.94, 0.05, 0.01]), 0)
    fcr_draw = rng.random(n)
    fcr_values = (rng.random(n) < 0.8).astype(object)
    fcr_values[~(answered & (fcr_draw < 0.6))] = None  # unknown
    agent = np.where(answered, rng.integers(1, AGENTS + 1, n), 0)

    queued_at = started + ivr
    answered_at = queued_at + pd.to_timedelta(wait, unit="s")
    ended_at = answered_at + pd.to_timedelta(talk + hold, unit="s")
    ids = np.arange(1, n + 1)
    calls = pd.DataFrame(
        {
            "id": ids,
            "linkedid": np.char.add("b", ids.astype(str)),
            "started_at": started,
            "queued_at": pd.Series(queued_at).where(~not_queued),
            "answered_at": pd.Series(answered_at).where(answered),
            "ended_at": ended_at,
            "queue": queue,
            "agent_id": pd.array(np.where(agent > 0, agent, 0), dtype="Int64"),
            "disposition": disposition,
            "wait_seconds": wait,
            "talk_seconds": talk,
            "hold_seconds": hold,
            "wrap_seconds": wrap,
            "transfers": transfers,
            "first_contact_resolution": pd.array(fcr_values, dtype="boolean"),
        }
    )
    calls.loc[~answered, "agent_id"] = pd.NA
    return Generated(calls, _states(rng, days))


def _states(rng: np.random.Generator, days: pd.DatetimeIndex) -> pd.DataFrame:
    rows_user: list[int] = []
    rows_state: list[int] = []
    rows_start: list[Any] = []
    slot = np.timedelta64(30, "m")
    for agent in range(1, AGENTS + 1):
        shift_hour = 8 if agent % 2 else 12
        off = {agent % 7, (agent + 3) % 7}
        for d in days:
            if d.dayofweek in off:
                continue
            first = (d + pd.Timedelta(hours=shift_hour)).tz_convert("UTC").to_datetime64()
            states = rng.choice(len(STATES), size=16, p=STATE_SHARE)
            rows_user.extend([agent] * 16)
            rows_state.extend(states.tolist())
            rows_start.extend(first + slot * np.arange(16))
    started = pd.to_datetime(np.array(rows_start), utc=True)
    return pd.DataFrame(
        {
            "user_id": rows_user,
            "state": np.array(STATES)[rows_state],
            "started_at": started,
            "ended_at": started + pd.Timedelta(minutes=30),
        }
    )


# -- loading ---------------------------------------------------------------------------


def _text_times(series: pd.Series, *, pg: bool) -> list[str | None]:
    values = np.datetime_as_string(series.to_numpy(dtype="datetime64[us]"), unit="us")
    values = np.char.replace(values, "T", " ")
    out: list[str | None] = [v + "+00" if pg else v for v in values.tolist()]
    for i in np.flatnonzero(series.isna().to_numpy()):
        out[i] = None
    return out


def call_tuples(calls: pd.DataFrame, *, pg: bool) -> list[tuple[Any, ...]]:
    n = len(calls)
    stamps = ("started_at", "queued_at", "answered_at", "ended_at")
    times = {c: _text_times(calls[c], pg=pg) for c in stamps}
    agent = [None if pd.isna(a) else int(a) for a in calls["agent_id"]]
    fcr_raw = calls["first_contact_resolution"]
    fcr = [None if pd.isna(v) else bool(v) for v in fcr_raw]
    queued = calls["queued_at"].notna().to_numpy()
    columns = [
        calls["id"].tolist(), ["default"] * n, calls["linkedid"].tolist(), ["in"] * n,
        ["13800138000"] * n, ["95777"] * n, times["started_at"], times["queued_at"],
        times["answered_at"], times["ended_at"], ["[]"] * n, calls["queue"].tolist(),
        calls["queue"].tolist(), [10] * n, agent, ["[]"] * n, queued.astype(int).tolist(),
        [0] * n, calls["wait_seconds"].tolist(), calls["talk_seconds"].tolist(),
        calls["hold_seconds"].tolist(), calls["wrap_seconds"].tolist(),
        calls["disposition"].tolist(), calls["transfers"].tolist(), fcr, [8] * n,
        times["ended_at"],
    ]  # fmt: skip
    return list(zip(*columns, strict=True))


def state_tuples(states: pd.DataFrame, *, pg: bool) -> list[tuple[Any, ...]]:
    return list(
        zip(
            states["user_id"].tolist(),
            states["state"].tolist(),
            _text_times(states["started_at"], pg=pg),
            _text_times(states["ended_at"], pg=pg),
            strict=True,
        )
    )


def user_tuples() -> list[tuple[Any, ...]]:
    now = dt.datetime(2024, 12, 1).isoformat(sep=" ")
    return [
        (i, f"agent{i:03d}", f"座席{i:03d}", "agent", f"{1000 + i}", "[]", True, "x", now, now)
        for i in range(1, AGENTS + 1)
    ]


USER_COLUMNS = [
    "id", "username", "display_name", "role", "extension", "languages", "active",
    "password_hash", "created_at", "updated_at",
]  # fmt: skip


def load_sqlite(path: str, g: Generated) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        placeholders = ",".join("?" * len(USER_COLUMNS))
        conn.executemany(
            f"INSERT INTO users ({','.join(USER_COLUMNS)}) VALUES ({placeholders})", user_tuples()
        )
        placeholders = ",".join("?" * len(CALL_COLUMNS))
        conn.executemany(
            f"INSERT INTO calls ({','.join(CALL_COLUMNS)}) VALUES ({placeholders})",
            call_tuples(g.calls, pg=False),
        )
        conn.executemany(
            f"INSERT INTO agent_state_history ({','.join(STATE_COLUMNS)}) VALUES (?,?,?,?)",
            state_tuples(g.states, pg=False),
        )
        conn.commit()
        conn.execute("ANALYZE")
    finally:
        conn.close()


def load_postgres(dsn: str, g: Generated) -> None:
    import psycopg

    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur:
            for table, columns, rows in (
                ("users", USER_COLUMNS, user_tuples()),
                ("calls", CALL_COLUMNS, call_tuples(g.calls, pg=True)),
                ("agent_state_history", STATE_COLUMNS, state_tuples(g.states, pg=True)),
            ):
                with cur.copy(f"COPY {table} ({','.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
