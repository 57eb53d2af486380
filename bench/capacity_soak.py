"""bench/capacity.py's soak: Hotline callers at a steady rate (70 % of the capacity) for
M minutes after a warm-up (default 720 s: longer than every bounded window the backend
fills, the desks' 5-minute replay windows and the customer-file grants kept 600 s after a
call, so that what is left to grow is what would grow for ever); the backend's RSS
sampled every 5 s: the median of the last tenth of the measured minutes against the
median of their first tenth (<= +5 %); the calls SIPp placed against the call records
the backend wrote (none lost, none duplicated; SIPp's failures apart); the bridge's
event lag p99.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field

import sqlalchemy as sa

from bench import capacity_plain as plain
from bench.capacity_ramp import hist_delta, hist_pct
from bench.capacity_rig import Rig, rss_mb
from db.engine import make_async_engine

MAX_RSS_GROWTH = 0.05
WARMUP_SECONDS = 720.0


@dataclass
class SoakResult:
    cps: float
    minutes: float
    placed: int
    sipp_ok: int
    sipp_failed: int
    answered: int  # by an agent, seen on Asterisk
    records: int
    distinct: int  # distinct Linkedids among them
    records_answered: int
    unfinished: int  # records still in progress after the settle time
    rss: list[tuple[float, float]]  # (seconds since start, MB)
    warmup: float
    lag: list[tuple[float, int]]
    peak_calls: int
    # (seconds since start, RssAnon MB, RssFile MB): what grew, the heap or mapped files
    rss_parts: list[tuple[float, float, float]] = field(default_factory=list)

    def _median(self, lo: float, hi: float, series: list[tuple[float, float]]) -> float:
        vals = [mb for t, mb in series if lo <= t <= hi]
        return statistics.median(vals) if vals else float("nan")

    def _ends(self, series: list[tuple[float, float]]) -> tuple[float, float]:
        end = self.rss[-1][0]
        tenth = max(10.0, (end - self.warmup) / 10)
        return (
            self._median(self.warmup, self.warmup + tenth, series),
            self._median(end - tenth, end, series),
        )

    @property
    def rss_ends(self) -> tuple[float, float]:
        """Median RSS of the tenth just after the warm-up, and of the last tenth (MB)."""
        return self._ends(self.rss)

    @property
    def parts_ends(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """rss_ends of RssAnon and of RssFile."""
        anon = [(t, a) for t, a, _ in self.rss_parts]
        files = [(t, f) for t, _, f in self.rss_parts]
        return self._ends(anon), self._ends(files)

    @property
    def rss_growth(self) -> float:
        base, last = self.rss_ends
        return last / base - 1

    @property
    def rss_after_warmup(self) -> tuple[float, float]:
        after = [mb for t, mb in self.rss if t >= self.warmup]
        return (min(after), max(after)) if after else (float("nan"), float("nan"))

    @property
    def records_ok(self) -> bool:
        """Every call placed has one record, finished (SIPp's failures are printed apart:
        a caller SIPp gave up on still has its record)."""
        return self.records == self.distinct == self.placed and self.unfinished == 0


async def _max_call_id(url: str) -> int:
    engine = make_async_engine(url)
    try:
        async with engine.connect() as c:
            top = (await c.execute(sa.text("SELECT max(id) FROM calls"))).scalar()
            return int(top or 0)
    finally:
        await engine.dispose()


async def _records(url: str, after_id: int) -> tuple[int, int, int, int]:
    engine = make_async_engine(url)
    try:
        async with engine.connect() as c:
            row = (
                await c.execute(
                    sa.text(
                        "SELECT count(*), count(DISTINCT linkedid), "
                        "count(answered_at), "
                        "sum(CASE WHEN disposition = 'in_progress' THEN 1 ELSE 0 END) "
                        "FROM calls WHERE id > :after"
                    ),
                    {"after": after_id},
                )
            ).one()
            return int(row[0]), int(row[1]), int(row[2]), int(row[3] or 0)
    finally:
        await engine.dispose()


async def soak(rig: Rig, cps: float, minutes: float, warmup: float = WARMUP_SECONDS) -> SoakResult:
    seconds = warmup + minutes * 60
    count = max(1, round(cps * seconds))
    after_id = await _max_call_id(rig.db_url)
    known = set(rig.watch.legs)
    rig.watch.reset_peak()
    lag0 = await rig.bridge_lag()
    pid, t0 = rig.backend_pid, time.monotonic()
    rss: list[tuple[float, float]] = []
    parts: list[tuple[float, float, float]] = []

    async def sample() -> None:
        while True:
            t = time.monotonic() - t0
            rss.append((t, rss_mb(pid)))
            parts.append((t, rss_mb(pid, "RssAnon"), rss_mb(pid, "RssFile")))
            await asyncio.sleep(5)

    sampler = asyncio.create_task(sample())
    try:
        result = await rig.callers(
            plain.HOTLINE_NUMBER, cps, count, "soak", timeout=seconds + rig.talk[1] + 300
        )
        await rig.wait_idle()
    finally:
        sampler.cancel()
    lag1 = await rig.bridge_lag()
    # The call log writes each call when it ends: give it time to catch up.
    deadline = time.monotonic() + 60
    while True:
        records = await _records(rig.db_url, after_id)
        if (records[0] >= count and records[3] == 0) or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    legs = [leg for uid, leg in rig.watch.legs.items() if uid not in known]
    return SoakResult(
        cps=cps,
        minutes=minutes,
        placed=count,
        sipp_ok=result.successful,
        sipp_failed=result.failed,
        answered=sum(1 for leg in legs if leg.answered is not None),
        records=records[0],
        distinct=records[1],
        records_answered=records[2],
        unfinished=records[3],
        rss=rss,
        warmup=warmup,
        lag=hist_delta(lag0, lag1),
        peak_calls=rig.watch.peak,
        rss_parts=parts,
    )


def soak_lines(r: SoakResult) -> list[str]:
    lo, hi = r.rss_after_warmup
    base, last = r.rss_ends
    growth = r.rss_growth
    return [
        f"soak: {r.minutes:g} min after a {r.warmup:.0f} s warm-up at {r.cps:.2f} cps "
        f"(Hotline), {r.placed} calls placed, "
        f"{r.peak_calls} simultaneous at most",
        f"  SIPp: {r.sipp_ok} successful, {r.sipp_failed} failed; answered by an agent "
        f"{r.answered}",
        f"  call records: {r.records} ({r.distinct} distinct Linkedids, {r.records_answered} "
        f"answered, {r.unfinished} unfinished): "
        + ("none lost, none duplicated" if r.records_ok else "MISMATCH with the calls placed"),
        f"  backend RSS after the {r.warmup:.0f} s warm-up {base:.1f} MB, at the end "
        f"{last:.1f} MB: {growth * 100:+.1f} % (target <= +{MAX_RSS_GROWTH * 100:.0f} %: "
        f"{'met' if growth <= MAX_RSS_GROWTH else 'NOT met'}); {lo:.1f}-{hi:.1f} MB "
        "after the warm-up",
        "  of which the heap (RssAnon) {:.1f} -> {:.1f} MB, mapped files (RssFile) {:.1f} -> "
        "{:.1f} MB".format(*r.parts_ends[0], *r.parts_ends[1]),
        f"  bridge event lag p50 {hist_pct(r.lag, 50) * 1000:.1f} ms, p99 "
        f"{hist_pct(r.lag, 99) * 1000:.1f} ms, over {r.lag[-1][1] if r.lag else 0} events",
    ]
