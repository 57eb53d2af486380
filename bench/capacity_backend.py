"""The backend under test for bench/capacity.py: the real Runtime (role all, as `hotline
serve` runs it) in a process of its own, so that the benchmark can read its CPU and RSS
from /proc. Not run by hand.

    python -m bench.capacity_backend --instance NAME --db URL --agents N --first-ext 2001
        --customers N --first-phone 13900000000

Points the Runtime at the sandbox instance NAME (settings from its state file, as the
integration tests do: business hours always open), seeds N agents (extensions
first-ext.., skills billing and general at level 8) and N customers (a phone each, English, a
balance of 25 yuan, no PIN), signs every agent in ready, and stands in for the agents'
desktops (answers each offer with offer.delivered on the bus, as the desk does when its
screen-pop arrives). Prints one JSON line {"ready": true, "http": base URL} on stdout,
then runs until SIGTERM. A line `pool N` on stdin leaves the first N agents signed in
ready and signs the others out (the ramp sizes the agent pool to each rate); it answers
{"pool": N, "ready": agents signed in} on stdout.

BENCH_TRACEMALLOC=S (a leak hunt, not a measurement: tracing slows the backend): Python
allocations traced from the start, a snapshot S seconds after ready, and at the stop the
allocations that grew most since then, by line and by call stack, on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import os
import signal
import sys
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from db.models import AgentSkill, Customer, CustomerPhone, Role, User  # noqa: E402
from db.models.customers import Language  # noqa: E402
from devtools.services.asterisk import attach_instance  # noqa: E402
from hotline.runtime import Runtime  # noqa: E402
from hotline.services import Services  # noqa: E402
from kernel import topics  # noqa: E402
from kernel.bus.memory import MemoryBus  # noqa: E402
from kernel.bus.port import EventBus  # noqa: E402
from tests.integration.hotline.support import restart_settings  # noqa: E402

SKILLS = ("billing", "general")
AGENT_LEVEL = 8


async def seed(services: Services, agents: list[str], phones: list[str]) -> None:
    async with services.sessions() as s:
        for ext in agents:
            user = User(
                username=f"bench{ext}",
                display_name=f"坐席{ext}",
                role=Role.AGENT,
                extension=ext,
                languages=["zh", "en"],
                password_hash="x",
            )
            s.add(user)
            await s.flush()
            assert user.id is not None
            # Level 8: every agent meets the queues' first step (config.yaml billing: ">= 7"
            # for 20 s), as the plain queue's static members take a caller at once. At
            # level 5 every Hotline caller waited the 20 s of that step with agents free.
            s.add_all(AgentSkill(user_id=user.id, skill=k, level=AGENT_LEVEL) for k in SKILLS)
        for n, phone in enumerate(phones):
            customer = Customer(
                name=f"压测客户{n}",
                account_number=f"B{n:09d}",
                language=Language.EN,
                balance=Decimal("25.00"),
                arrears=Decimal("0"),
            )
            s.add(customer)
            await s.flush()
            assert customer.id is not None
            s.add(CustomerPhone(customer_id=customer.id, number=phone, is_primary=True))
        await s.commit()


async def desktops(bus: EventBus) -> None:
    """Every agent's desktop: the screen-pop is shown at once."""
    sub = await bus.subscribe(topics.OFFER)
    while True:
        msg = await sub.get()
        if msg.data.get("type") == "offer":
            await bus.publish(
                topics.OFFER,
                {
                    "type": "offer.delivered",
                    "agent_id": msg.data["agent_id"],
                    "call_id": msg.data["call_id"],
                },
            )


async def pool_control(routing: Any, bench: list[str]) -> None:
    """`pool N` lines on stdin: the first N agents (by extension) signed in ready, the
    others signed out. Asked between steps, when no call is up."""
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        words = line.decode().split()
        if len(words) != 2 or words[0] != "pool":
            continue
        want = set(bench[: int(words[1])])
        for agent in routing.agents():
            if agent["extension"] in want:
                await routing.login(agent["agent_id"], ready=True)
            else:
                await routing.logout(agent["agent_id"])
        ready = sum(1 for a in routing.agents() if a["state"] != "logged_out")
        print(json.dumps({"pool": len(want), "ready": ready}), flush=True)


def traced() -> float | None:
    """BENCH_TRACEMALLOC's seconds, tracing started; None when not asked for."""
    value = os.environ.get("BENCH_TRACEMALLOC")
    if not value:
        return None
    tracemalloc.start(12)
    return float(value)


def growth_report(base: tracemalloc.Snapshot) -> None:
    now = tracemalloc.take_snapshot()
    out = sys.stderr
    print("tracemalloc: growth since the snapshot, by line", file=out)
    for stat in now.compare_to(base, "lineno")[:15]:
        print(f"  {stat}", file=out)
    print("tracemalloc: growth by call stack (top 5)", file=out)
    for stat in now.compare_to(base, "traceback")[:5]:
        print(f"  {stat.size_diff / 1024:.0f} KiB in {stat.count_diff:+d} blocks", file=out)
        for line in stat.traceback.format()[-16:]:
            print(f"    {line}", file=out)
    out.flush()


async def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--instance", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--agents", type=int, required=True)
    p.add_argument("--first-ext", type=int, default=2001)
    p.add_argument("--customers", type=int, required=True)
    p.add_argument("--first-phone", type=int, default=13900000000)
    args = p.parse_args()
    trace_after = traced()
    snapshots: list[tracemalloc.Snapshot] = []
    pbx = attach_instance(args.instance)
    if pbx is None:
        raise SystemExit(f"no sandbox instance {args.instance}")
    settings = restart_settings(pbx, args.db)
    # Agents are free again as soon as they hang up (no wrap-up): the ramp measures the
    # PBX and the backend, not the agents' paperwork.
    queues = [q.model_copy(update={"wrap_up_seconds": 0}) for q in settings.queues]
    settings = settings.model_copy(update={"queues": queues})
    runtime = Runtime(settings)
    services = await asyncio.wait_for(runtime.start(), 120)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGUSR2, lambda: held_report(services))
    desk = asyncio.create_task(desktops(services.bus))
    control: asyncio.Task[None] | None = None
    try:
        agents = [str(args.first_ext + n) for n in range(args.agents)]
        phones = [str(args.first_phone + n) for n in range(args.customers)]
        await seed(services, agents, phones)
        routing = services.features.routing
        assert routing is not None
        await routing.reload_agents()
        for agent in routing.agents():
            await routing.login(agent["agent_id"], ready=True)
        base = f"http://{settings.http.host}:{settings.http.port}"
        print(json.dumps({"ready": True, "http": base}), flush=True)
        control = asyncio.create_task(pool_control(routing, agents))
        if trace_after is not None:
            loop.call_later(trace_after, lambda: snapshots.append(tracemalloc.take_snapshot()))
        await stop.wait()
        if snapshots:
            growth_report(snapshots[0])
    finally:
        desk.cancel()
        if control is not None:
            control.cancel()
        await asyncio.wait_for(runtime.stop(), 60)
    return 0


def held_report(services: Services) -> None:
    """SIGUSR2 (a leak hunt, cheap enough to run under load): what the in-process bus
    holds (each consumer group's backlog, each subscriber's buffer) and the most numerous
    live objects by type, on stderr."""
    bus, out = services.bus, sys.stderr
    if isinstance(bus, MemoryBus):
        for (topic, group), n in sorted(bus.backlogs().items()):
            print(f"held: bus group {topic}/{group} backlog {n}", file=out)
        for topic, sizes in sorted(bus.buffered().items()):
            print(f"held: bus fan-out {topic} {len(sizes)} subscribers, {sizes[:5]}", file=out)
    rollup = Path("/proc/self/smaps_rollup")
    if rollup.exists():  # anonymous (heap) vs file-backed (SQLite's mmap, libraries)
        wanted = ("Rss:", "Anonymous:", "Shared_Clean:", "Private_Clean:", "Private_Dirty:")
        for line in rollup.read_text().splitlines():
            if line.startswith(wanted):
                print(f"held: {line}", file=sys.stderr)
    print(f"held: {sys.getallocatedblocks()} blocks from Python's allocator", file=sys.stderr)
    counts = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
    for name, n in counts.most_common(25):
        print(f"held: {n:>9} {name}", file=sys.stderr)
    sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
