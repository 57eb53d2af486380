"""Routing benchmark: the pure core at contact-center scale, then the real Asterisk.

    .venv/bin/python bench/routing.py                 # both parts
    .venv/bin/python bench/routing.py --pure-only     # no Asterisk
    .venv/bin/python bench/routing.py --calls 30      # more calls per side on Asterisk

Part 1 (pure): 5,000 logged-in agents, 50 skills, 2,000 waiting calls, then a realistic
event mix (routing/core/workload.py: calls arriving, answered and ending, wrap-ups ending,
steps relaxing, no-answers). The indexed router and the naive scan-everything router
start from the same state and must make identical decisions (checked); prints
decisions/s, per-event latency percentiles and the speed-up. Targets: p99 <= 200 us per
event, >= 20x the naive scan.

Part 2 (Asterisk 22 sandbox): time from a caller entering the holding queue
(QueueCallerJoin) to the agent channel being dialled (DialBegin), Hotline routing
(CTI bridge + router + dispatcher, an instant screen-pop acknowledgement) against
app_queue itself (strategy leastrecent, the same Local agents as static members of a
bench-only queue), alternating in the same run. Target: ratio <= 1.0.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing.core.naive import NaiveSelector
from routing.core.workload import Workload


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def run_events(load: Workload, count: int) -> tuple[list[float], int]:
    """Latency (seconds) of each of `count` events and the decisions they made."""
    latencies: list[float] = []
    before = len(load.decisions)
    clock = time.perf_counter
    for _ in range(count):
        _, op = load.next_op()
        t0 = clock()
        events = op()
        latencies.append(clock() - t0)
        load.apply(events)
    return latencies, len(load.decisions) - before


def report(name: str, latencies: list[float], decisions: int) -> float:
    total = sum(latencies)
    us = [x * 1e6 for x in latencies]
    print(
        f"  {name:8s} {len(us):6d} events {decisions:6d} decisions  "
        f"{decisions / total:10.0f} decisions/s  {len(us) / total:9.0f} events/s  "
        f"p50 {percentile(us, 50):8.1f} us  p99 {percentile(us, 99):8.1f} us  "
        f"max {max(us):9.1f} us"
    )
    return total / len(us)


def pure(args: argparse.Namespace) -> bool:
    print(
        f"pure routing core: {args.agents} agents, {args.skills} skills, "
        f"{args.waiting} waiting calls, seed {args.seed}"
    )
    started = time.perf_counter()
    fast = Workload.build(
        agents=args.agents, skills=args.skills, waiting=args.waiting, seed=args.seed, naive=False
    )
    slow = Workload.build(
        agents=args.agents, skills=args.skills, waiting=args.waiting, seed=args.seed, naive=False
    )
    print(f"  setup {time.perf_counter() - started:.1f} s (both from the same seed)")
    # Same state, then the reference answers every question by scanning everything.
    slow.router.selector = NaiveSelector(slow.router.plan, slow.router.agents, slow.router.calls)
    assert fast.decisions == slow.decisions
    mark = len(fast.decisions)
    naive_lat, naive_dec = run_events(slow, args.naive_events)
    fast_lat, fast_dec = run_events(fast, args.naive_events)
    same = fast.decisions == slow.decisions
    print(
        f"  identical decisions on the first {args.naive_events} events: {same} "
        f"({len(fast.decisions) - mark} decisions compared)"
    )
    more_lat, more_dec = run_events(fast, args.events - args.naive_events)
    fast_lat += more_lat
    fast_dec += more_dec
    mean_fast = report("indexed", fast_lat, fast_dec)
    mean_naive = report("naive", naive_lat, naive_dec)
    p99 = percentile([x * 1e6 for x in fast_lat], 99)
    speedup = mean_naive / mean_fast
    waiting = fast.waiting()
    print(
        f"  speed-up {speedup:.0f}x (mean event time); p99 {p99:.1f} us; "
        f"{waiting} calls waiting at the end"
    )
    ok = same and p99 <= 200 and speedup >= 20
    print(f"  targets (p99 <= 200 us, >= 20x, identical): {'met' if ok else 'NOT met'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=5000)
    parser.add_argument("--skills", type=int, default=50)
    parser.add_argument("--waiting", type=int, default=2000)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--naive-events", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pure-only", action="store_true")
    parser.add_argument("--calls", type=int, default=20, help="Asterisk calls per side")
    args = parser.parse_args()
    ok = pure(args)
    if not args.pure_only:
        from bench.routing_pbx import pbx_bench

        ok = asyncio.run(pbx_bench(args.calls)) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
