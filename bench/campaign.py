"""Campaign engine benchmark: 100,000 contacts dialled through a working day.

    .venv/bin/python -m bench.campaign [--contacts 100000] [--db sqlite|postgresql] [--seed 1]

The engine alone (campaigns/engine.py CampaignEngine, the code the `campaigns` duty
runs), on a FakeClock that advances through the calling window, with a recording PBX:
Originate returns at once and every call ends with an outcome drawn from a seeded
realistic mix (55 % answered, 15 % no answer, 10 % busy, 8 % answering machine, 7 %
failed, 5 % hung up during the message). The outcome reaches the engine as it does in
production: what the call's FastAGI route writes on the attempt row (answered, hangup,
machine: campaigns/agi_store.py), and a call.ended event on the bus with Asterisk's
hangup cause (busy 17, no answer 19, failed 34).

Prints contacts scheduled per second (an attempt's outcome turned into the contact's
next state and time) and calls placed per second, wall clock; the same schedule as a
plain SQL pass (one set-based UPDATE per wave of attempts over the same contacts and
the same outcomes, bench/campaign_data.py sql_floor) and the ratio; and the memory the
engine held (tracemalloc peak, RSS growth) per 100,000 contacts. Both runs end with the
same counts of done/failed contacts and attempts, checked.

Last figures (SQLite, seed 1, shared 2-core machine, each run alone under the lock):

    before batching (a transaction per claim, per call record, per end; ~30 ms an attempt):
      2,000 contacts    31 contacts scheduled/s, 31 calls placed/s; plain SQL 60,778/s: 1,933x
      100,000 contacts  31 scheduled/s, 41 placed/s; plain SQL 59,981/s: 1,960x (98 s, partial)
    batched (campaigns/README.md "Batching"):
      2,000 contacts    261 scheduled/s, 261 placed/s; plain SQL 67,979/s: 260x;
                        done/failed/attempts 1818/182/3319 both sides
      10,000 contacts   620 scheduled/s, 620 placed/s (26.7 s, 374 rounds); plain SQL
                        86,399/s: 139x; 9122/878/16535 both sides; RSS +18.4 MiB per 100k
      100,000 contacts  794 contacts scheduled/s, 794 calls placed/s (complete run: 208 s of
                        engine time, 616 rounds, 6 h 50 min simulated); plain SQL 90,007/s:
                        113x; done/failed/attempts 90953/9047/165167 both sides and as
                        expected; never outside the window; RSS +32.7 MiB per 100,000
PostgreSQL (--db postgresql) was not run this session (the machine's lock was taken by
other benchmarks until the deadline).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.campaign_data import (  # noqa: E402
    Outcomes,
    contact_index,
    final_counts,
    load,
    sql_floor,
)
from bench.campaign_drive import Drive  # noqa: E402
from campaigns.rules import DialingRules  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models.campaigns import CampaignState  # noqa: E402
from kernel.config import load_settings  # noqa: E402
from kernel.config.settings import Settings  # noqa: E402

# Monday 2026-12-07 09:00 in Shanghai: the default calling window (09:00-20:00) opens.
START = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def settings_for(url: str, contacts: int) -> Settings:
    # The trunk and pacing must not be what is measured: every due contact may be
    # dialled at once (the FakeClock makes the seconds between calls free anyway).
    env = {
        "HOTLINE_DATABASE__URL": url,
        "HOTLINE_CAMPAIGNS__TRUNK_CHANNELS": str(min(1_000, max(1, contacts))),
        "HOTLINE_CAMPAIGNS__CALLS_PER_SECOND": "1000",
    }
    return load_settings(REPO / "config.yaml", env=env)


def database(kind: str, workdir: Path) -> tuple[str, object | None]:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'campaign.db'}", None
    from devtools.services.postgres import start_postgres

    server = start_postgres()
    server.create_database("bench")
    return server.url("bench"), server


def same(a: Mapping[str, int], b: Mapping[str, int]) -> bool:
    keys = ("done", "failed", "attempts")
    return all(a.get(k, 0) == b.get(k, 0) for k in keys)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="stop the engine's run after this much of its time (rates over what it did; "
        "the end is then not compared)",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="trace the engine's allocations too (its peak; the run is ~2-3x slower)",
    )
    args = parser.parse_args()
    n = args.contacts
    with tempfile.TemporaryDirectory(prefix="hotline-bench-campaign-") as tmp:
        url, server = database(args.db, Path(tmp))
        try:
            return run(url, n, args.seed, args.db, trace=args.tracemalloc, limit=args.max_seconds)
        finally:
            if server is not None:
                server.stop()  # type: ignore[attr-defined]


def run(url: str, n: int, seed: int, db: str, *, trace: bool, limit: float | None) -> int:
    settings = settings_for(url, n)
    rules = DialingRules.of(settings)
    t = time.perf_counter()
    upgrade(url)
    floor_id = load(url, n, START, CampaignState.DRAFT)  # the engine leaves drafts alone
    engine_id = load(url, n, START, CampaignState.RUNNING)
    outcomes = Outcomes.draw(n, rules.max_attempts, seed)
    expected = outcomes.expected(rules.max_attempts)
    print(f"{db}: {n:,} contacts x 2 campaigns loaded in {time.perf_counter() - t:.1f} s; "
          f"max {rules.max_attempts} attempts; outcome mix seed {seed}")  # fmt: skip

    floor_s, floor_scheduled, floor_counts = sql_floor(
        url, floor_id, outcomes, rules, START, contact_index(url, floor_id)
    )

    gc.collect()
    rss_before = rss_kib()
    index = contact_index(url, engine_id)
    if trace:
        tracemalloc.start()
    drive = Drive(settings, url, engine_id, outcomes, index, START)
    result = asyncio.run(drive.run(limit))
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    tracemalloc.stop()
    rss_after = rss_kib()
    engine_counts = final_counts(url, engine_id)

    per = 100_000 / n
    print(f"\n{'':34} {'engine':>12} {'plain SQL':>12} {'ratio':>7}")
    print(f"{'contacts scheduled':34} {result.scheduled:>12,} {floor_scheduled:>12,}")
    engine_rate = result.scheduled / result.seconds
    floor_rate = floor_scheduled / floor_s
    print(f"{'seconds':34} {result.seconds:>12.2f} {floor_s:>12.2f}")
    print(f"{'contacts scheduled / s':34} {engine_rate:>12,.0f} {floor_rate:>12,.0f} "
          f"{floor_rate / engine_rate:>6.1f}x")  # fmt: skip
    print(f"{'calls placed / s':34} {result.placed / result.seconds:>12,.0f} "
          f"{'—':>12}")  # fmt: skip
    print(f"{'calls placed':34} {result.placed:>12,}")
    print(f"{'engine rounds':34} {result.rounds:>12,}")
    print(f"{'call flow writes (apart), s':34} {result.flow_seconds:>12.2f}")
    print(f"{'simulated time (FakeClock)':34} {result.simulated}")
    print(f"{'never outside the window':34} {'yes' if result.outside == 0 else 'NO'}")
    grown = (rss_after - rss_before) / 1024
    print(f"\nmemory: RSS grew {grown:.1f} MiB during the engine's run "
          f"({grown * per:.1f} MiB per 100,000 contacts, linear scaling; includes the "
          f"engine's fixed cost: imports, connection pool)")  # fmt: skip
    if peak is not None:
        print(f"        tracemalloc peak {peak / 2**20:.1f} MiB "
              f"({peak * per / 2**20:.1f} MiB per 100,000 contacts)")  # fmt: skip
    if result.partial:
        print(f"PARTIAL: the engine was stopped after {result.seconds:.0f} s of its time "
              f"(--max-seconds), {result.scheduled:,} of {expected['attempts']:,} attempts "
              f"done; the rates above are over that part, the end is not compared")  # fmt: skip
        return 0 if same(floor_counts, expected) and result.outside == 0 else 1
    ok = same(engine_counts, expected) and same(floor_counts, expected)
    print(f"same end (done/failed/attempts): engine {_counts(engine_counts)}, plain SQL "
          f"{_counts(floor_counts)}, expected {_counts(expected)}: "
          f"{'yes' if ok else 'NO'}")  # fmt: skip
    return 0 if ok and result.outside == 0 else 1


def _counts(c: Mapping[str, int]) -> str:
    return f"{c.get('done', 0)}/{c.get('failed', 0)}/{c.get('attempts', 0)}"


if __name__ == "__main__":
    raise SystemExit(main())
