"""`hotline-dev demo --cluster`: one center on several processes on this machine.

Two sandbox Asterisk 22 nodes (na, nb) joined by the rendered inter-node trunk, a
PostgreSQL and a Redis of its own, two `hotline serve --role pbx` (one leads the cluster
duties: both nodes' AMI bridges and the one router; the other stands by) and two `--role
api` (open the desk on either; sign in on one, the pops reach you on both). Agents
1001-1006 have their phones on node na, 1007-1012 on node nb; callers dial in on both
nodes, and a caller on one node is offered to an agent on the other through the trunk.
Simulated agents sign in through the api processes, simulated callers dial the hotline.
With
`--kill-leader-every N` the leading pbx process is killed (SIGKILL) every N seconds: the
banner line shows the standby taking over and the callers still being served; a new
standby is started each time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import signal
from pathlib import Path

from cti.nodes import NodeDialling
from devtools.cluster import LocalCluster, local_cluster
from devtools.demo.remote import Callers, callers, sign_in_agents
from devtools.demo.session import render_demo_prompts

AGENTS = [str(1002 + n) for n in range(8)]  # agent01 is left for the person trying it
KEYS = ("ww5", "ww0", "ww6", "ww1", "ww5", "ww0")  # business, operator, complaint, balance


async def run_cluster_demo(args: argparse.Namespace) -> int:
    var: Path = args.var / "cluster"
    print(
        "demo: starting 2 Asterisk nodes, PostgreSQL, Redis, 2 pbx and 2 api processes ...",
        flush=True,
    )
    async with (
        local_cluster(
            var,
            Path(args.config or "config.yaml"),
            pbx=2,
            api=2,
            seed_customers=args.customers,
            nodes=2,
        ) as cluster,
        contextlib.AsyncExitStack() as stack,
    ):
        await render_demo_prompts(cluster.settings)
        dials = [
            await stack.enter_async_context(callers(instance, cluster.settings))
            for instance in cluster.nodes.values()
        ]
        rng = random.Random(3)
        behaviour = {e: (rng.uniform(1, 4), rng.uniform(20, 60)) for e in AGENTS}
        homes = NodeDialling(cluster.settings.pbx)
        for node, dial in zip(cluster.nodes, dials, strict=True):
            await dial.phones(behaviour, {e for e in AGENTS if homes.home(e) != node})
        await sign_in_agents(cluster.api_url(0), AGENTS)
        banner(cluster)
        tasks = [asyncio.create_task(place_calls(dials, args.call_every, rng))]
        if args.kill_leader_every > 0:
            tasks.append(asyncio.create_task(kill_leaders(cluster, args.kill_leader_every)))
        try:
            await wait(args.duration)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        print(await asyncio.to_thread(summary, cluster), flush=True)
    return 0


def summary(cluster: LocalCluster) -> str:
    """What the call log holds after the run (read before the database stops)."""
    import sqlalchemy as sa

    from db.engine import make_sync_engine
    from db.models import metadata

    calls = metadata.tables["calls"]
    engine = make_sync_engine(cluster.settings.database.url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(calls.c.disposition, sa.func.count()).group_by(calls.c.disposition)
            ).all()
            records = conn.scalar(sa.select(sa.func.count()).select_from(calls)) or 0
            distinct = conn.scalar(sa.select(sa.func.count(sa.distinct(calls.c.linkedid)))) or 0
            answered = (
                conn.scalar(
                    sa.select(sa.func.count())
                    .select_from(calls)
                    .where(calls.c.answered_at.is_not(None))
                )
                or 0
            )
            nodes = conn.execute(
                sa.select(calls.c.pbx_node, sa.func.count()).group_by(calls.c.pbx_node)
            ).all()
    finally:
        engine.dispose()
    by = ", ".join(f"{d} {n}" for d, n in sorted(rows))
    per_node = ", ".join(f"node {node} {n}" for node, n in sorted(nodes))
    return (
        f"demo: call log: {records} records for {distinct} calls, {answered} answered by an"
        f" agent ({by}); {per_node}"
    )


def banner(cluster: LocalCluster) -> None:
    leader = cluster.leader()
    lines = ["", "Hotline cluster demo is running."]
    for node, instance in cluster.nodes.items():
        lines.append(
            f"  Asterisk node {node} (pid {instance.pid}): AMI {instance.ami_port}, SIP "
            f"{instance.sip_port}; the inter-node trunk joins the nodes"
        )
    for n, process in enumerate(cluster.api):
        base = cluster.api_url(n)
        lines += [
            f"  {process.name}: desk {base}/desk/  wallboard {base}/wallboard"
            f"  supervisor {base}/supervisor",
            f"         work orders {base}/tickets/  reports {base}/reports/  qa {base}/qa/"
            f"  admin {base}/admin/",
            f"         readiness {base}/readyz  metrics {base}/metrics",
        ]
    for process in cluster.pbx:
        role = "leads the duties" if process is leader else "standby"
        ops = f"http://127.0.0.1:{cluster.ops_ports[process.name]}"
        lines += [
            f"  {process.name} (pid {process.pid}): IVR on the shared FastAGI port, {role}",
            f"         readiness {ops}/readyz  metrics {ops}/metrics",
        ]
    lines += [
        f"  Logs: {cluster.work / 'logs'}   (agent01 .. agent12 / hotline-demo)",
        "  Ctrl-C to stop.",
        "",
    ]
    print("\n".join(lines), flush=True)


async def place_calls(dials: list[Callers], every: float, rng: random.Random) -> None:
    """Callers dial in on each node in turn."""
    if every <= 0:
        return
    n = 0
    while True:
        n += 1
        with contextlib.suppress(Exception):  # a refused originate must not end the demo
            await dials[n % len(dials)].call(f"1380000{n:04d}", rng.choice(KEYS))
        await asyncio.sleep(rng.uniform(every * 0.5, every * 1.5))


async def kill_leaders(cluster: LocalCluster, every: float) -> None:
    """A kill every `every` seconds on a fixed cadence (a slow start of the next standby
    does not push the next kill back), each once a standby is there to take over."""
    loop = asyncio.get_running_loop()
    next_at = loop.time() + every
    while True:
        await asyncio.sleep(max(0.0, next_at - loop.time()))
        next_at += every
        leader = cluster.leader()
        name = leader.name if leader else "?"
        led, active = await cluster.kill_leader()
        standby = cluster.leader()
        print(
            f"demo: killed the leader {name} (SIGKILL); {standby.name if standby else '?'} "
            f"took over: lease after {led:.2f} s, duties up after {active:.2f} s",
            flush=True,
        )
        fresh = cluster.start_pbx()
        await fresh.wait_for("serving FastAGI", 60)
        print(f"demo: {fresh.name} (pid {fresh.pid}) stands by", flush=True)


async def wait(duration: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if duration > 0:
        loop.call_later(duration, stop.set)
    await stop.wait()
