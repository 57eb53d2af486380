"""bench/capacity.py's ramp: steps of N seconds at rising calls per second, each side
(Hotline, plain dialplan) in turn at each rate, on the same Asterisk, until a side fails
a step: more than 1 % of its calls fail (never reached an agent, or SIPp counted them
failed) or a caller waits more than 2 s for the IVR's first prompt (Asterisk's
Newchannel, i.e. the INVITE, to the first AGI command that plays or asks / the first
Playback or Read).

Fair to both sides: before each side's step Asterisk must have no channel left from the
previous step (bounded wait; the ramp fails loud if it never drains); the side that goes
first alternates from rate to rate; each rate has its own agent pool, the same for both
sides, sized to the rate (rate x (mean talk + 2 s) x 1.2 + 5: enough for the offered
load, not hundreds of idle static members): the plain queue's static members and the
agents Hotline has signed in ready.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from dataclasses import dataclass, field

from bench import capacity_plain as plain
from bench.capacity_rig import CallerLeg, Rig, cpu_seconds, rss_mb

MAX_FAILED = 0.01
MAX_PROMPT_SECONDS = 2.0
SIDES = ("hotline", "plain")
POOL_MARGIN = 1.2
DRAIN_SECONDS = 180.0


def pool_size(cps: float, talk: tuple[int, int]) -> int:
    """Agents for a rate: the offered load (calls/s x mean seconds an agent is busy: the
    talk plus ~2 s of ringing and setup) with a 20 % margin, plus 5."""
    return math.ceil(cps * ((talk[0] + talk[1]) / 2 + 2) * POOL_MARGIN) + 5


NUMBERS = {"hotline": plain.HOTLINE_NUMBER, "plain": plain.PLAIN_NUMBER}


@dataclass
class Step:
    side: str
    cps: float
    seconds: float
    calls: int
    answered: int
    failed: int
    sipp_failed: int
    prompt_waits: list[float]  # seconds, callers whose first prompt came
    no_prompt: int
    peak_calls: int  # simultaneous caller legs on Asterisk
    backend_cpu: float  # % of one core, while calls were placed
    backend_rss: float  # MB, highest seen
    asterisk_cpu: float
    agents: int = 0  # the step's agent pool
    drained: float = 0.0  # seconds waited for Asterisk to be empty before the step
    lag: list[tuple[float, int]] = field(default_factory=list)  # bridge event lag, delta

    @property
    def failed_share(self) -> float:
        return self.failed / self.calls if self.calls else 1.0

    @property
    def prompt_max(self) -> float:
        return max(self.prompt_waits) if self.prompt_waits else float("inf")

    @property
    def ok(self) -> bool:
        return (
            self.failed_share <= MAX_FAILED
            and self.no_prompt == 0
            and self.prompt_max <= MAX_PROMPT_SECONDS
        )


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def hist_delta(
    before: list[tuple[float, int]], after: list[tuple[float, int]]
) -> list[tuple[float, int]]:
    old = dict(before)
    return [(bound, n - old.get(bound, 0)) for bound, n in after]


def hist_pct(hist: list[tuple[float, int]], p: float) -> float:
    """A percentile from cumulative buckets, linear within its bucket."""
    if not hist or hist[-1][1] == 0:
        return float("nan")
    want = hist[-1][1] * p / 100
    lower_bound, lower_n = 0.0, 0
    for bound, n in hist:
        if n >= want:
            if bound == float("inf"):
                return lower_bound
            share = (want - lower_n) / (n - lower_n) if n > lower_n else 1.0
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_n = bound, n
    return lower_bound


async def run_step(rig: Rig, side: str, cps: float, seconds: float, tag: str) -> Step:
    assert rig.pbx is not None
    count = max(1, round(cps * seconds))
    known = set(rig.watch.legs)
    rig.watch.reset_peak()
    lag0 = await rig.bridge_lag()
    pid, apid = rig.backend_pid, rig.pbx.pid
    cpu0, acpu0, t0 = cpu_seconds(pid), cpu_seconds(apid), time.monotonic()
    rss: list[float] = [rss_mb(pid)]
    window: dict[str, float] = {}

    async def sample() -> None:
        while True:
            await asyncio.sleep(1)
            rss.append(rss_mb(pid))
            if "cpu" not in window and time.monotonic() - t0 >= seconds:
                wall = time.monotonic() - t0
                window["cpu"] = (cpu_seconds(pid) - cpu0) / wall * 100
                window["acpu"] = (cpu_seconds(apid) - acpu0) / wall * 100

    sampler = asyncio.create_task(sample())
    try:
        talk_max = rig.talk[1]
        result = await rig.callers(NUMBERS[side], cps, count, tag, timeout=seconds + talk_max + 240)
        await rig.wait_idle()
    finally:
        sampler.cancel()
    if "cpu" not in window:
        wall = time.monotonic() - t0
        window["cpu"] = (cpu_seconds(pid) - cpu0) / wall * 100
        window["acpu"] = (cpu_seconds(apid) - acpu0) / wall * 100
    lag1 = await rig.bridge_lag()
    legs: list[CallerLeg] = [
        leg for uid, leg in rig.watch.legs.items() if uid not in known and leg.side == side
    ]
    answered = sum(1 for leg in legs if leg.answered is not None)
    waits = [leg.prompt - leg.created for leg in legs if leg.prompt is not None]
    failed = max(result.failed, count - answered)
    return Step(
        side=side,
        cps=cps,
        seconds=seconds,
        calls=count,
        answered=answered,
        failed=failed,
        sipp_failed=result.failed,
        prompt_waits=waits,
        no_prompt=sum(1 for leg in legs if leg.prompt is None),
        peak_calls=rig.watch.peak,
        backend_cpu=window["cpu"],
        backend_rss=max(rss),
        asterisk_cpu=window["acpu"],
        lag=hist_delta(lag0, lag1),
    )


def step_line(s: Step) -> str:
    w = s.prompt_waits
    return (
        f"  {s.side:7s} {s.cps:5.1f} cps  calls {s.calls:4d}  answered {s.answered:4d}  "
        f"failed {s.failed_share * 100:5.1f} %  first prompt p50 {pct(w, 50) * 1000:6.0f} ms "
        f"p99 {pct(w, 99) * 1000:6.0f} max {s.prompt_max * 1000:6.0f} ms  "
        f"simultaneous {s.peak_calls:4d}  backend CPU {s.backend_cpu:5.1f} % "
        f"RSS {s.backend_rss:6.1f} MB  Asterisk CPU {s.asterisk_cpu:5.1f} %  "
        f"bridge lag p50 {hist_pct(s.lag, 50) * 1000:6.1f} p99 "
        f"{hist_pct(s.lag, 99) * 1000:6.1f} ms  agents {s.agents}  "
        f"{'ok' if s.ok else 'FAILED'}"
    )


async def ramp(
    rig: Rig, levels: list[float], seconds: float, sides: tuple[str, ...] = SIDES
) -> dict[str, list[Step]]:
    """Each side at each level in turn (the first side alternates) until it fails a
    step, on an empty Asterisk and the level's agent pool; prints each step."""
    steps: dict[str, list[Step]] = {side: [] for side in sides}
    alive = list(sides)
    for n, cps in enumerate(levels):
        order = alive if n % 2 == 0 else alive[::-1]
        for side in list(order):
            drained = await rig.drain(DRAIN_SECONDS)
            await rig.set_pool(pool_size(cps, rig.talk))
            step = await run_step(rig, side, cps, seconds, f"ramp-{side}-{n}")
            step.agents, step.drained = rig.pool, drained
            print(step_line(step), flush=True)
            steps[side].append(step)
            if not step.ok:
                alive.remove(side)
        if not alive:
            break
    return steps


def sustained(steps: list[Step]) -> Step | None:
    """The last step passed before the first failed one."""
    best = None
    for s in steps:
        if not s.ok:
            break
        best = s
    return best
