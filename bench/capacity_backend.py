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

Leak hunts (not measurements):
- BENCH_TRACEMALLOC=S[:FRAMES]: Python allocations traced from the start (FRAMES deep,
  12 by default; 1 costs the least: at 12 the soak's 5.6 cps overloaded the backend, its
  call log fell 3,700 events behind), a snapshot S seconds after ready, and at the stop
  the allocations that grew most since then, by line and by call stack, on stderr.
- SIGUSR2: what the process holds (bus backlogs, anonymous memory by kind, Python's
  allocated blocks and pymalloc's arenas (sys._debugmallocstats), the SQLite library's
  own memory, the most numerous objects).
- SIGUSR1: glibc's malloc_trim(0), with the anonymous memory before and after: what
  comes back was free but kept by the allocator, not held by the program.
What they found on SQLite at 5.6 cps (5 Dec 2026): the SQLite library holds 2-4 MB
(high-water 9 MB), not the growth; Python's allocated blocks are flat (1.24-1.27 M)
from ~10 min on while anonymous memory still grows ~1 MB a minute; malloc_trim gives
back 8-9 MB once and the growth goes on, in the mappings outside the main heap.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import ctypes
import ctypes.util
import gc
import json
import os
import signal
import sys
import tempfile
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
from kernel.lifecycle import settle_heap  # noqa: E402
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
    seconds, _, frames = value.partition(":")
    tracemalloc.start(int(frames or 12))
    return float(seconds)


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
    loop.add_signal_handler(signal.SIGUSR1, trim_report)
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
        settle_heap()  # as `hotline serve` does once started (hotline/runtime.py)
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
    for kind, kb in anonymous_by_kind().items():
        print(f"held: anonymous, {kind}: {kb / 1024:.1f} MB", file=out)
    for line in pymalloc_summary():
        print(f"held: pymalloc {line}", file=out)
    sqlite = sqlite_memory()
    if sqlite is not None:  # the page caches of every SQLite connection in the process
        print(f"held: SQLite {sqlite[0] / 1e6:.1f} MB (high {sqlite[1] / 1e6:.1f} MB)", file=out)
    counts = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
    for name, n in counts.most_common(25):
        print(f"held: {n:>9} {name}", file=sys.stderr)
    sys.stderr.flush()


def anonymous_by_kind() -> dict[str, int]:
    """Resident anonymous memory (kB) by where it comes from: the main heap (brk), glibc's
    per-thread arenas (64 MB reservations), and the other anonymous mappings (pymalloc's
    1 MiB arenas, large malloc blocks, thread stacks)."""
    kinds = {"heap": 0, "thread arenas": 0, "other": 0}
    smaps = Path("/proc/self/smaps")
    if not smaps.exists():
        return kinds
    kind, start = "other", 0
    for line in smaps.read_text().splitlines():
        head = line.split()
        if "-" in head[0] and not head[0].endswith(":"):  # a mapping's first line
            start = int(head[0].split("-")[0], 16)
            name = head[5] if len(head) > 5 else ""
            kind = "heap" if name == "[heap]" else ("" if name else "anon")
        elif head[0] == "Anonymous:" and kind:
            where = kind
            if kind == "anon":
                # glibc puts each thread arena at a 64 MB boundary (HEAP_MAX_SIZE)
                where = "thread arenas" if start % (64 << 20) == 0 else "other"
            kinds[where] += int(head[1])
    return kinds


def trim_report() -> None:
    """SIGUSR1 (a leak hunt): glibc's malloc_trim(0), which gives back to the kernel what
    the arenas hold free; the anonymous memory before and after, on stderr. What comes
    back was freed by Python and the libraries but kept by the allocator, not leaked."""
    before = anonymous_by_kind()
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc_trim(0)
    after = anonymous_by_kind()
    for kind in before:
        print(
            f"trim: {kind} {before[kind] / 1024:.1f} -> {after[kind] / 1024:.1f} MB",
            file=sys.stderr,
        )
    sys.stderr.flush()


def pymalloc_summary() -> list[str]:
    """sys._debugmallocstats()'s totals: pymalloc's arenas (1 MiB each) and how much of
    them holds live blocks. It writes to the C stderr, so fd 2 goes to a file meanwhile."""
    with tempfile.TemporaryFile() as f:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(f.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        text = f.read().decode(errors="replace")
    wanted = ("# arenas", "# bytes in", "# bytes lost to pool", "# bytes lost to quant")
    return [
        " ".join(x.split())
        for x in text.splitlines()
        if x.startswith(wanted) or "unused pools" in x
    ]


def sqlite_memory() -> tuple[int, int] | None:
    """What the SQLite library has allocated in this process, and its high-water mark:
    the library Python's sqlite3 module links, loaded once per process."""
    name = ctypes.util.find_library("sqlite3")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    lib.sqlite3_memory_highwater.restype = ctypes.c_int64
    lib.sqlite3_memory_highwater.argtypes = [ctypes.c_int]
    return int(lib.sqlite3_memory_used()), int(lib.sqlite3_memory_highwater(0))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
