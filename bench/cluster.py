"""Cluster benchmark: how fast a standby takes over, and what a standby costs routing.

    .venv/bin/python -m bench.cluster [--kills 10] [--lease 3] [--rate 0.5] [--seconds 60]

Everything real, on this machine (devtools/cluster.py): the sandbox Asterisk 22, a
PostgreSQL and a Redis of their own, and `hotline serve` processes.

1. Takeover. Two `pbx` processes; `--kills` times: SIGKILL the leader, measure the time
   until the standby holds the lease and until all its duties have started (bridge
   logged in, router rebuilt from Asterisk, ...), then start a new standby. Baseline in
   the same run: the lease itself (a crashed holder's lock cannot lapse sooner), so
   the ratio says what the takeover adds to the lease.
2. Routing with one `pbx` process vs two (one leading, one standby), same event mix:
   callers dial the hotline at `--rate` per second for `--seconds` through the real IVR
   (operator: skill general), twelve simulated agents answer and talk two seconds. The
   benchmark hears the bus: routing decisions per second (offers published) and the
   decision latency (call.queued heard -> offer heard). The router runs in one process
   at a time by design (hotline/cluster.py), so two processes should route as fast as
   one: the ratio is the cost of the standby.
3. The same mix on two Asterisk nodes (two `pbx` processes; agents 1001-1006 on node
   na, 1007-1012 on nb; callers alternate nodes, so about half the offers cross the
   inter-node trunk) against part 2's one node with two `pbx` processes: what a second
   node costs the one router.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cti.nodes import NodeDialling  # noqa: E402
from devtools.cluster import LocalCluster, local_cluster  # noqa: E402
from devtools.demo.remote import callers, sign_in_agents  # noqa: E402
from kernel import topics  # noqa: E402
from kernel.bus.redis_streams import RedisBus  # noqa: E402

CONFIG = REPO / "config.yaml"
AGENTS = [str(1001 + n) for n in range(12)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def takeover(work: Path, kills: int, lease: float) -> dict[str, float]:
    led: list[float] = []
    active: list[float] = []
    async with local_cluster(work / "takeover", CONFIG, pbx=2, api=0, lease_seconds=lease) as c:
        for n in range(kills):
            took, ready = await c.kill_leader()
            led.append(took)
            active.append(ready)
            print(
                f"  kill {n + 1:2d}: lease taken after {took:5.2f} s,"
                f" duties up after {ready:5.2f} s"
            )
            await c.start_pbx().wait_for("serving FastAGI", 60)
    return {
        "lease_p50": pct(led, 0.5),
        "lease_p99": pct(led, 0.99),
        "active_p50": pct(active, 0.5),
        "active_p99": pct(active, 0.99),
    }


async def routing(
    work: Path, pbx: int, rate: float, seconds: float, nodes: int = 1
) -> dict[str, float]:
    async with local_cluster(
        work / f"routing-{pbx}-{nodes}", CONFIG, pbx=pbx, api=1, seed_customers=200, nodes=nodes
    ) as c:
        return await _route(c, rate, seconds)


async def _route(c: LocalCluster, rate: float, seconds: float) -> dict[str, float]:
    bus = RedisBus(c.env["HOTLINE_REDIS__URL"])
    sub = await bus.subscribe(topics.CALL, topics.OFFER)
    queued: dict[str, float] = {}
    latencies: list[float] = []
    offers: list[float] = []

    async def listen() -> None:
        while True:
            message = await sub.get()
            event, now = message.data, time.monotonic()
            if event.get("type") == "call.queued":
                queued.setdefault(str(event.get("call_id")), now)
            elif event.get("type") == "offer":
                offers.append(now)
                at = queued.get(str(event.get("call_id")))
                if at is not None:
                    latencies.append((now - at) * 1000)

    listener = asyncio.create_task(listen())
    try:
        async with contextlib.AsyncExitStack() as stack:
            instances = c.nodes or {"default": c.asterisk}
            homes = NodeDialling(c.settings.pbx)
            dials = []
            for node, instance in instances.items():
                dial = await stack.enter_async_context(callers(instance, c.settings))
                elsewhere = {e for e in AGENTS if c.nodes and homes.home(e) != node}
                await dial.phones(dict.fromkeys(AGENTS, (0.0, 2.0)), elsewhere)
                dials.append(dial)
            await sign_in_agents(c.api_url(), AGENTS)
            started = time.monotonic()
            n = 0
            while time.monotonic() - started < seconds:
                n += 1
                await dials[n % len(dials)].call(f"1390000{n:04d}", "ww0")
                await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            await asyncio.sleep(15)  # the last callers are offered
        window = max(offers) - min(offers) if len(offers) > 1 else 1.0
        return {
            "calls": float(n),
            "offers": float(len(offers)),
            "decisions_per_s": len(offers) / window if window > 0 else 0.0,
            "latency_p50_ms": pct(latencies, 0.5) if latencies else float("nan"),
            "latency_p99_ms": pct(latencies, 0.99) if latencies else float("nan"),
        }
    finally:
        listener.cancel()
        await sub.close()
        await bus.close()


async def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="hotline-bench-cluster-"))
    print(f"cluster benchmark (logs in {work})")
    print(f"\n1. takeover after SIGKILL of the leader, {args.kills} kills, lease {args.lease} s")
    t = await takeover(work, args.kills, args.lease)
    print(
        f"  lease taken:  p50 {t['lease_p50']:.2f} s  p99 {t['lease_p99']:.2f} s"
        f"  ({t['lease_p50'] / args.lease:.2f}x / {t['lease_p99'] / args.lease:.2f}x the lease)"
    )
    print(
        f"  duties up:    p50 {t['active_p50']:.2f} s  p99 {t['active_p99']:.2f} s"
        f"  ({t['active_p50'] / args.lease:.2f}x / {t['active_p99'] / args.lease:.2f}x the lease)"
    )
    print(f"\n2. routing, {args.rate} callers/s for {args.seconds:.0f} s, one pbx process vs two")
    one = await routing(work, 1, args.rate, args.seconds)
    two = await routing(work, 2, args.rate, args.seconds)
    for name, r in (("one pbx", one), ("two pbx", two)):
        print(
            f"  {name}: {r['offers']:.0f} offers for {r['calls']:.0f} calls,"
            f" {r['decisions_per_s']:.2f} decisions/s,"
            f" queued->offer p50 {r['latency_p50_ms']:.1f} ms p99 {r['latency_p99_ms']:.1f} ms"
        )
    print(
        f"  two / one: decisions/s {two['decisions_per_s'] / one['decisions_per_s']:.2f}x,"
        f" latency p50 {two['latency_p50_ms'] / one['latency_p50_ms']:.2f}x,"
        f" p99 {two['latency_p99_ms'] / one['latency_p99_ms']:.2f}x"
    )
    print("\n3. routing, the same mix on two Asterisk nodes (two pbx processes)")
    nodes = await routing(work, 2, args.rate, args.seconds, nodes=2)
    print(
        f"  two nodes: {nodes['offers']:.0f} offers for {nodes['calls']:.0f} calls,"
        f" {nodes['decisions_per_s']:.2f} decisions/s,"
        f" queued->offer p50 {nodes['latency_p50_ms']:.1f} ms"
        f" p99 {nodes['latency_p99_ms']:.1f} ms"
    )
    print(
        f"  two nodes / one node: decisions/s"
        f" {nodes['decisions_per_s'] / two['decisions_per_s']:.2f}x,"
        f" latency p50 {nodes['latency_p50_ms'] / two['latency_p50_ms']:.2f}x,"
        f" p99 {nodes['latency_p99_ms'] / two['latency_p99_ms']:.2f}x"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--lease", type=float, default=3.0)
    # Below the agents' capacity (12 agents, ~7 s per call with wrap-up): the latency is
    # the decision's, not a wait for a free agent.
    parser.add_argument("--rate", type=float, default=0.5, help="callers per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
