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
Ramp: each rate (4, 6, 8, 10, 12, 14, 16 calls/s; quick 2, 4, 8) for a step of N
seconds (60; quick 15), both sides at each rate, the side that goes first alternating
from rate to rate, until a side fails a step: > 1 % of its calls fail (never reached an
agent) or a caller waits > 2 s for the IVR's first prompt (Asterisk's Newchannel -> the
first AGI command that plays or asks / the first Playback or Read). Fair to both: every
step starts on an empty Asterisk (no channel left from the step before; a bounded wait
that fails the run loud), and each rate has one agent pool for both sides, sized to the
offered load (rate x (mean talk + 2 s) x 1.2 + 5): the plain queue's static members and
the agents Hotline has signed in ready (the rest signed out), never hundreds idle.
Per step: simultaneous calls (caller legs on Asterisk), the backend's CPU (its process
tree, /proc, while calls are placed) and RSS, Asterisk's CPU, and the CTI bridge's event
lag (Asterisk's event Timestamp -> handled by the bridge, the backend's /metrics
hotline_bridge_event_lag_seconds, percentiles inside its buckets). Prints the highest
sustained rate of each side and the ratio Hotline/plain (target >= 0.8x).
Soak (--soak): Hotline at 70 % of --cps, or of the rate a ramp of Hotline alone measures
first, for --minutes (15); the backend's RSS flat after warm-up (<= +5 %), SIPp's
successful calls == call records (none lost or duplicated), bridge lag p99.

Last figures (2-core machine shared with other jobs, SQLite, Asterisk 22.10.1, 4 Dec
2026, after the router fix a5478f8):
`--levels 6 8 10 12 14 --seconds 30` (talk 10-30 s; drained Asterisk before every step,
first side alternating, agent pool per rate):
  hotline   6.0 cps  calls  180  answered  180  failed   0.0 %  first prompt p50 27 ms
    p99 87 max 123 ms  simultaneous 144  backend CPU 47.1 % RSS 178.0 MB  Asterisk CPU
    40.7 %  bridge lag p50 1.1 p99 9.9 ms  agents 164  ok
  plain     6.0 cps  calls  180  answered  180  failed   0.0 %  first prompt p50 14 ms
    p99 34 max 50 ms  simultaneous 144  Asterisk CPU 47.3 %  agents 164  ok
  plain     8.0 cps  calls  240  answered  238  failed   0.8 %  first prompt p50 93 ms
    p99 20295 max 30451 ms  simultaneous 183  Asterisk CPU 28.5 %  agents 217  FAILED
    (SIPp: 135 of 238 callers got Asterisk's 200 OK only after >= 2 s, mean 9.5 s, on a
    drained Asterisk at 28.5 % CPU: Asterisk stalls without being CPU-bound; the suspect
    is app_queue with 217 static PJSIP members, not measured further)
  hotline   8.0 cps  calls  240  answered  240  failed   0.0 %  first prompt p50 27 ms
    p99 80 max 224 ms  simultaneous 192  backend CPU 60.8 % RSS 195.2 MB  Asterisk CPU
    54.6 %  bridge lag p50 1.1 p99 14.0 ms  agents 217  ok
  hotline  10.0 cps  calls  300  answered  300  failed   0.0 %  first prompt p50 29 ms
    p99 439 max 845 ms  simultaneous 240  backend CPU 74.3 % RSS 203.6 MB  Asterisk CPU
    68.9 %  bridge lag p50 2.1 p99 107.3 ms  agents 269  ok
  hotline  12.0 cps  calls  360  answered  360  failed   0.0 %  first prompt p50 73 ms
    p99 15550 max 25958 ms  simultaneous 288  backend CPU 69.9 % RSS 226.4 MB  Asterisk
    CPU 83.3 %  bridge lag p50 4.8 p99 215.2 ms  agents 322  FAILED
  Hotline: sustained 10 cps, 240 simultaneous calls, first prompt p99 439 ms, backend
    CPU 74.3 % of a core, RSS 203.6 MB, Asterisk CPU 68.9 %, bridge lag p50 2.1 ms p99
    107.3 ms
  plain dialplan: sustained 6 cps, 144 simultaneous calls, first prompt p99 34 ms,
    Asterisk CPU 47.3 %
  ratio Hotline/plain sustained cps 1.67x (target >= 0.8x: met)
  The router's "redirect ... refused: channel not up" retries are gone (0 lines; ~24,000
  at 15 cps before a5478f8); at 12 cps Asterisk itself falls behind (first prompts up
  to 26 s) and the router gave up 14 offers whose outcome Asterisk never reported in
  time ("no outcome, given up"); every caller still reached an agent.
  CAVEAT: SIPp's default call limit (-l, 3 x the caller scenario's ~8 s of pauses x
  rate) capped every step at 24 x rate simultaneous callers ("simultaneous" above is
  exactly that), so the rates are nominal and a little high for both sides alike; the
  rig now passes -l (no cap): rerun for exact figures.
`--soak --minutes 15 --cps 10` (7 cps nominal, 190 agents): stopped at 17 min (deadline)
before SIPp placed its 6,300 calls, because the same -l cap (168 simultaneous) held it
to ~3.6 cps; figures read from the live run at 20:58:35:
  SIPp: 3,686 calls placed, 3,519 successful, 0 failed, 167 in progress; call records
    3,686 (3,686 distinct Linkedids), 167 in progress, 3,519 finished: none lost, none
    duplicated
  backend RSS after the 180 s warm-up 195.8 MB, at 17 min 280.6 MB: +43 % (target
    <= +5 %: NOT met), climbing ~5 MB/min all along
  bridge event lag p50 1.5 ms, p99 ~45 ms, over 68,753 events
  What grows (gc object counts in the backend at 17 min, 3,686 calls): 32,963
  desk.push.replay.Frame (desk/push/hub.py keeps a ReplayBuffer per agent, 512 frames;
  frames older than max_age are pruned only in after()/idle(), i.e. when a desktop
  reconnects, so with no desktop connected every agent keeps 512 frames); 3,681
  desk.push.hub.CallAccess (~1 per call: removed by _sweep only once ended_at is set,
  which call.ended does only for agents in _call_agents, filled on call.answered); 3,883
  supervisor.live_calls.CallEntry + reports.metrics.CallFacts (every call of the day kept).
Earlier, before the ramp was fair (plain right after Hotline's step on the same
Asterisk, 400 static members): Hotline 10 cps, plain 5 cps, "2.00x".
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
    plan = (
        f"soak of {args.minutes:g} min at 70 % of {args.cps:g} cps"
        if args.soak and args.cps
        else f"steps of {seconds:g} s at {', '.join(f'{x:g}' for x in levels)} cps"
    )
    print(
        f"capacity: {agents} SIPp agents, talk {talk[0]}-{talk[1]} s, {plan}, "
        f"database {url.split(':', 1)[0]}",
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
