"""Capacity on real SIP: how many callers one machine with Asterisk 22 and Hotline
carries, against the same Asterisk running a plain dialplan IVR and Queue().

    .venv/bin/python bench/capacity.py --quick          # a first figure in minutes
    .venv/bin/python bench/capacity.py                  # the full ramp
    .venv/bin/python bench/capacity.py --soak --minutes 15 [--cps 3]
    .venv/bin/python bench/capacity.py --soak --minutes 60   # the long soak, for users

One sandbox Asterisk 22 of its own (free loopback ports; bench/capacity_plain.py adds the
load generator's endpoint, the agents' endpoints, the plain dialplan and its queue to
that instance's configuration only), the real backend (the Runtime, role all, as `hotline
serve` runs it, in a process of its own: bench/capacity_backend.py; SQLite, or
--db-url), and SIPp inside the sandbox root:
- agents: one SIPp process registers extensions 2001.. as PJSIP endpoints (digest) and
  answers every call to them, echoes the caller's RTP, talks a uniform 10-30 s (quick:
  3-6 s) and hangs up (bench/sipp/capacity-agents.xml, capacity-agent-answer.xml).
  Hotline's router offers callers to them (skills billing and general, signed in ready,
  desktops that show the screen-pop at once); the plain queue has them as static members.
- callers: SIPp UAC (bench/sipp/capacity-caller.xml) from seeded customers' numbers,
  PCMA, RFC 2833 key presses (RTP events from pcaps the rig writes): identified by caller
  ID, 1 = balance (said as a number), 1 = an agent; the holding queue; the agent.
  The plain dialplan does the same menu with Playback()/Read()/SayNumber() and Queue().
Ramp: each rate (1, 2, 3, ... calls/s; quick 2, 4, 8) for a step of N seconds (60;
quick 15), Hotline then plain, until a side fails a step: > 1 % of its calls fail (never
reached an agent) or a caller waits > 2 s for the IVR's first prompt (Asterisk's
Newchannel -> the first AGI command that plays or asks / the first Playback or Read).
Per step: simultaneous calls (caller legs on Asterisk), the backend's CPU (its process
tree, /proc, while calls are placed) and RSS, Asterisk's CPU, and the CTI bridge's event
lag (Asterisk's event Timestamp -> handled by the bridge, the backend's /metrics
hotline_bridge_event_lag_seconds, percentiles inside its buckets). Prints the highest
sustained rate of each side and the ratio Hotline/plain (target >= 0.8x).
Soak (--soak): Hotline at 70 % of --cps, or of the rate a ramp of Hotline alone measures
first, for --minutes (15); the backend's RSS flat after warm-up (<= +5 %), SIPp's
successful calls == call records (none lost or duplicated), bridge lag p99.

Last figures (2-core machine, SQLite, Asterisk 22.10.1, 4 Dec 2026):
`--quick` (50 agents, talk 3-6 s, 15 s steps at 1, 2, 4 cps; before the quick levels
became 2, 4, 8), no side failed:
  hotline 4.0 cps  calls 60  failed 0.0 %  first prompt p50 26 ms p99 44 max 45 ms
    simultaneous 60  backend CPU 32.1 %  RSS 173.5 MB  Asterisk CPU 20.3 %
    bridge lag p50 1.5 p99 9.8 ms
  plain   4.0 cps  calls 60  failed 0.0 %  first prompt p50 15 ms p99 25 max 26 ms
    simultaneous 50  Asterisk CPU 19.5 %
  ratio 1.00x (both at the ramp's top: no ceiling found)
`--levels 5 10 15 20 --seconds 30 --agents 400` (talk 10-30 s):
  hotline  5 cps ok: 150 calls, first prompt p99 50 ms, 120 simultaneous, backend CPU
    43.8 %, RSS 176.5 MB, Asterisk CPU 37.2 %, bridge lag p50 1.5 p99 10.0 ms
  plain    5 cps ok: 150 calls, first prompt p99 19 ms, 120 simultaneous, Asterisk 41.3 %
  hotline 10 cps ok: 300 calls, first prompt p50 29 p99 432 max 647 ms, 240 simultaneous,
    backend CPU 69.7 %, RSS 192.4 MB, Asterisk CPU 70.7 %, bridge lag p50 1.9 p99 77.6 ms
  plain   10 cps FAILED: 73 of 300 reached an agent, first prompt p50 19.9 s (Asterisk
    CPU only 25.8 %: app_queue with 400 static members stalls, not the CPU)
  hotline 15 cps FAILED: 123 of 450 reached an agent, first prompt p50 5.6 s, RSS 544 MB,
    bridge lag p99 218 ms (the router logged thousands of "redirect ... refused: channel
    not up" retries for callers that had gone)
  Hotline sustained 10 cps (240 simultaneous), plain 5 cps (120): ratio 2.00x (target
  >= 0.8x: met) -- but the plain ceiling is app_queue's with 400 static members on a
  2-core box, not Asterisk's; a finer ramp (6, 8 cps) would place both ceilings better.
The soak (`--soak`) was written but not run yet.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.capacity_ramp import SIDES, pool_size, ramp, step_line, sustained  # noqa: E402
from bench.capacity_report import summary  # noqa: E402
from bench.capacity_rig import rig  # noqa: E402
from bench.capacity_soak import soak, soak_lines  # noqa: E402

QUICK_LEVELS = [2.0, 4.0, 8.0]
FULL_LEVELS = [4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0]


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short steps, low rates, short talk")
    p.add_argument("--seconds", type=float, help="step length (default 60, quick 15)")
    p.add_argument("--max-cps", type=float, help="highest rate of the ramp")
    p.add_argument("--levels", type=float, nargs="+", help="the ramp's rates, calls/s")
    p.add_argument("--soak", action="store_true")
    p.add_argument("--minutes", type=float, default=15.0, help="soak length (60: long mode)")
    p.add_argument("--cps", type=float, help="soak: the capacity to take 70 %% of")
    p.add_argument("--agents", type=int, help="SIPp agents (default: enough for the ramp)")
    p.add_argument("--talk", type=int, nargs=2, metavar=("MIN", "MAX"), help="talk seconds")
    p.add_argument("--db-url", help="the backend's database (default: a fresh SQLite file)")
    return p.parse_args()


async def main() -> int:
    args = parse()
    levels = QUICK_LEVELS if args.quick else FULL_LEVELS
    if args.levels:
        levels = sorted(args.levels)
    if args.max_cps:
        levels = [x for x in levels if x < args.max_cps] + [args.max_cps]
    seconds = args.seconds or (15.0 if args.quick else 60.0)
    talk = tuple(args.talk) if args.talk else ((3, 6) if args.quick else (10, 30))
    top = (args.cps or 0) * 0.7 if args.soak and args.cps else levels[-1]
    agents = args.agents or max(20, pool_size(top, (talk[0], talk[1])))
    tmp = Path(tempfile.mkdtemp(prefix="hotline-capacity-"))
    url = args.db_url or f"sqlite:///{tmp}/capacity.db"
    print(
        f"capacity: {agents} SIPp agents, talk {talk[0]}-{talk[1]} s, steps of {seconds:g} s "
        f"at {', '.join(f'{x:g}' for x in levels)} cps, database {url.split(':', 1)[0]}",
        flush=True,
    )
    try:
        async with rig(agents=agents, customers=1000, talk=(talk[0], talk[1]), db_url=url) as r:
            if not args.soak:
                steps = await ramp(r, levels, seconds, SIDES)
                for line in summary(steps, levels):
                    print(line)
                return 0
            cps = args.cps
            if cps is None:
                steps = await ramp(r, levels, seconds, ("hotline",))
                best = sustained(steps["hotline"])
                if best is None:
                    print("soak: Hotline failed the ramp's first step; give --cps")
                    return 1
                cps = best.cps
                print(step_line(best))
            result = await soak(r, cps * 0.7, args.minutes)
            for line in soak_lines(result):
                print(line)
            return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def run() -> int:
    """main(), cancelled (so that every rig part is stopped) on SIGTERM or SIGINT."""
    task = asyncio.create_task(main())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        print("capacity: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(asyncio.run(run()))
