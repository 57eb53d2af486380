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

Last figures (2-core machine, SQLite, Asterisk 22.10.1, 5 Dec 2026, f14d17a), steady
state, `--levels 6 7 8 9 10 11 12 --seconds 90` (90 s steps, longer than a call):
  hotline  6 / 7 / 8 / 9 / 10 / 11 / 12 cps: 0 % failed at every rate; at 12: 1,080
    calls, 355 simultaneous, first prompt p50 46 ms p99 428 ms, backend CPU 83.4 %, RSS
    291 MB, Asterisk 80.4 %, bridge lag p50 5.0 ms p99 319.6 ms (at 9: 77.6 %, lag p99
    48 ms; the first step, 1 min after start, had a first prompt p99 of 1.1 s and a
    lag p99 of 4.3 s, later steps none)
  plain    6 .. 12 cps: 0 % failed; at 12: 355 simultaneous, first prompt p99 158 ms,
    Asterisk 92.4 %
  both sustained 12 cps, the ramp's top (neither failed): ratio 1.00x (target >= 0.8x:
    met); at 12 the two cores are nearly full (backend + Asterisk + SIPp).
Soak at 70 % of that, `--soak --minutes 15 --cps 12` (8.4 cps, 6 Dec 2026, cf9a680:
the call log writer stores a batch in a few statements, bench/calllog_writer.py):
  SQLite: 13,608 calls placed, SIPp 13,608 successful, 0 failed; 250 simultaneous at
  most; 13,608 call records (13,608 distinct, 0 unfinished): none lost or duplicated;
  lag p50 1.9 ms, p99 37.7 ms over 285,416 events; RSS 270.1 -> 282.3 MB, +4.5 %
  (target <= +5 %: met); the writer's bus backlog 0-6 events when sampled.
  PostgreSQL (--db-url): 13,608 = 13,608 records, 0 failed, 251 simultaneous; lag p99
  53.4 ms over 284,626 events; RSS 247.2 -> 252.6 MB, +2.2 % (met).
Before cf9a680 (b1a89ff, SQLite) the same soak placed the same 13,608 calls, but the
writer made four statements per event, each a turn of the busy event loop (aiosqlite):
~164 events/s written of ~176 coming in, a bus backlog of 13,730 events at 18 min, 496
records still unfinished when counted, RSS 319.8 -> 416.5 MB (+30.2 %, all of it held
objects: pymalloc's live blocks 167 -> 186 MB).
Every figure below is from before f14d17a, whose sandbox had a ceiling that was neither
Asterisk's nor Hotline's: Asterisk looks the host's name up for every call leg's RTCP
(res_rtp_asterisk: ast_find_ourip, RTP bound to any address), then A.ROOT-SERVERS.NET
when the name is unknown, and the sandbox root had neither name in its /etc/hosts: two
DNS queries per leg went to the host's resolver, on the PJSIP thread setting the call
up. Once the resolver slowed, PJSIP tasks waited 5-10 s (`core show taskprocessors`:
high time 5,012,515-10,012,701 us; gdb: threads in getaddrinfo under
ast_sockaddr_resolve, channel threads in ast_call waiting for them) and Asterisk stalled
with its CPU idle: in a ramp on the code before f14d17a both sides failed at 7 cps
(plain 71 % of calls, Hotline 89 %, first prompts p50 60-80 s, Asterisk at 12 % CPU).
The failures below (plain "stalling" at 8 cps with Asterisk at 36 %, Hotline's "no
outcome, given up" at 10 cps and in the 60-min soak) have that shape and were most
likely the same stall. The root now resolves names from its files only
(devtools/services/asterisk_root.py local_names).

Older figures (4-5 Dec 2026, SIPp without the -l cap; talk 10-30 s, Asterisk drained
before every step, first side alternating, one agent pool per rate).

Ramp with 30 s steps, `--levels 4 6 8 10 --seconds 30` (agents at skill level 5, see
below):
  hotline  8 cps  240 answered, first prompt p99 281 ms, 240 simultaneous, backend CPU
    69.5 %, RSS 196.8 MB, Asterisk 70.9 %, lag p50 2.5 p99 597.1 ms  ok
  plain    8 cps  205 of 240 answered (14.6 % failed), first prompt p50 5.1 s p99 51 s,
    Asterisk only 35.9 %  FAILED (app_queue with 217 static PJSIP members stalls
    without being CPU-bound)
  hotline 10 cps  152 of 300 answered (62.7 % failed): the IVR kept up (first prompt
    p99 545 ms), the connection to agents did not -- 391 "offer ... no outcome, given
    up", each counted as the agent's no-answer (fixed since: 7ddcdd9)  FAILED
  Hotline sustained 8 cps, plain dialplan 6 cps: ratio 1.33x (target >= 0.8x: met).
A 30 s step is shorter than a call (IVR ~8 s, talk 10-30 s), so it never reaches
steady state. With 90 s steps, `--levels 4 5 6 --seconds 90`:
  hotline 4 / 5 / 6 cps: 0 % failed, first prompt p99 52 / 68 / 215 ms, 198 / 242 / 292
    simultaneous, backend CPU 48.7 / 57.3 / 66.3 %, RSS 181 / 203 / 224 MB, Asterisk
    43.6 / 51.0 / 62.7 %, lag p99 14.3 / 13.4 / 43.9 ms
  plain   4 / 5 / 6 cps: 0 % failed, first prompt p99 26 / 19 / 59 ms, 120 / 143 / 175
    simultaneous, Asterisk 36.1 / 44.3 / 55.8 %
  both sustained 6 cps (neither failed: the ceiling is above): ratio 1.00x.
Both ramps ran with the agents at skill level 5, below the billing queue's first step
(config.yaml ">= 7" for 20 s): every Hotline caller waited those 20 s in its holding
queue with agents free (hence ~120 more simultaneous calls than plain). The agents are
at level 8 since (1fe653f): in the soak below, 172 simultaneous at 5.6 cps.

Soak, `--soak --minutes 15 --cps 8` (70 % of the 30 s ramp's 8 cps: 5.6 cps, agents at
level 8, the call log writer batching, 2074253):
  5,040 calls placed, SIPp 5,040 successful, 0 failed, all answered by an agent; 5,040
  call records (5,040 distinct Linkedids, 0 unfinished): none lost, none duplicated;
  172 simultaneous at most; bridge event lag p50 1.8 ms, p99 24.0 ms over 105,668 events.
  Backend RSS 213.7 MB after the 180 s warm-up, 287.5 MB at the end: +34.6 % (target
  <= +5 %: NOT met).
The same soak before the writer batched (and agents at level 5): the same counts (5,040
= 5,040), lag p99 63 ms, RSS +55.5 %. What the backend holds (SIGUSR2 to
bench/capacity_backend.py prints it): before, the call log's bus group backlog grew
~7 events/s (1,912 events at 6.5 min: one commit per event on SQLite kept up with ~100
events/s); now it stays under 50. What still grows is anonymous memory, ~10 MB/min in
the first 5-6 minutes and slower after: each agent's desk replay window filling to its
5 minutes (17,000 frames, screen-pops kept unrendered since the bench's agents have no
desktop open), the customer-file grants kept 600 s after each call, and today's calls
in the supervisors' live view (one entry per call of the day, by design). A soak longer
than those windows (`--minutes 60`) is the next measurement.
Two more soaks (same command, 4be93ad/8e42047, machine otherwise idle), with the
backend's held objects printed every 2 minutes (SIGUSR2):
  default allocator: 5,040 = 5,040 records, 0 failed, lag p99 34.1 ms; RSS 214.3 MB
    after the 180 s warm-up, 286.7 MB at the end: +33.8 % (NOT met).
  MALLOC_ARENA_MAX=2 (glibc's per-thread arenas capped: aiosqlite's threads): 5,040 =
    5,040, 0 failed, lag p99 24.9 ms; RSS 198.9 -> 255.5 MB: +28.4 % (NOT met); 30 MB
    lower throughout, the same shape.
  What the object counts say: the desk's replay Frames grow to 17,200 by 5 min and stay
  there (and their closures, `cell`, 33,000); the file grants (CallAccess) to ~3,470 by
  10 min and stay; the live view's CallEntry/CallFacts grow by one per call (4,634 at
  the end; ~1 KB each, ~5 MB per 15 min at this rate). Python's allocated blocks grew
  1.298 M -> 1.360 M (+62,000, a few MB) over the last 6 minutes while anonymous memory
  grew 21 MB, in steps (+26 MB at ~5 min, +14 MB at ~10.5 min in the second run): not
  Python objects held; most likely allocator fragmentation as the windows begin to
  expire, or SQLite's page caches (one per pooled connection) filling. Still open.
  The second run lost two recording writes to SQLite's 'database is locked' under this
  load (a completion, a recording.start audit row; fixed: aed0f17, retried like its
  creation); the first, one agent-state write, which its writer retried.
The steps were the CEL cursor's pass (cti/cel/recovery.py advance_cursor), every 300 s
while the AMI link stays up: it read every CEL row since the last pass into memory at
once (five minutes of a busy node: ~100,000 rows, 48 MB in tests/unit/cti's bound test),
and the heap kept the high-water mark. It now streams them 2,000 at a time and keeps one
span per call (6 MB for the same 100,000 rows). The same soak after it (6abdd43,
default allocator, machine otherwise idle):
  5,040 = 5,040 records, 0 failed, lag p99 24.5 ms over 105,672 events; RSS 217.2 MB
    after the 180 s warm-up, 264.1 MB at the end: +21.6 % (target <= +5 %: NOT met;
    +33.8 % before). No step at 300 s (228 -> 237 MB from 290 to 340 s, smooth); small
    ones at the later passes (+3.7 MB at ~610 s, +2.6 MB at ~910 s). Between 5.5 and 15
    min RSS still grows ~3 MB a minute, steadily; the live view's entries account for
    ~0.35 MB a minute of it. The rest is open.
On PostgreSQL (`--db-url`, 0b05383, machine otherwise idle): 15 min: 5,040 = 5,040
records, 0 failed, lag p99 22.8 ms; RSS 205.1 -> 229.2 MB: +11.7 % (SQLite, same run
length: +21.6 %: about half the growth is in-process SQLite, its page and statement
caches per pooled connection and their threads' arenas). 60 min (`--minutes 60`, warm-up
720 s, longer than every bounded window): 20,160 calls placed, 20,160 records (20,160
distinct, 0 unfinished, none lost or duplicated), SIPp 20,069 successful and 91 failed
(offers "no outcome, given up": the router's watchdog, as at 10 cps in the ramp); lag
p99 24.0 ms over 422,307 events; RSS 229.3 -> 251.4 MB: +9.6 % (NOT met), ~0.45 MB a
minute from 20 min on, most of it the live view's one entry per call of the day
(~0.35 MB a minute at 5.6 cps, dropped at midnight).
Since (1b7701c, f9c9304): the live view keeps today's ended calls packed (~150 bytes
each instead of ~700), and the soak measures --minutes after a warm-up past every
bounded window (720 s). PostgreSQL, `--soak --minutes 15 --cps 8`, machine otherwise
idle: 9,072 calls placed in 27 minutes, SIPp 9,072 successful, 0 failed, all answered
by an agent; 9,072 records (9,072 distinct, 0 unfinished): none lost or duplicated; 171
simultaneous at most; lag p50 2.0 ms, p99 22.4 ms over 190,284 events; RSS 225.1 MB
after the warm-up, 230.1 MB at the end: +2.2 % (target <= +5 %: met), in steps of
~1.5 MB (the allocator taking arenas), flat between them.
Earlier, an uncapped soak at 5.6 cps collapsed after ~3 minutes while a test suite ran
beside it: Asterisk's PJSIP queues backed up, offers went unreported, and 58 of 153
agents were paused for "no-answers" that were the PBX's silence (fixed: 7ddcdd9).
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
from bench.capacity_soak import WARMUP_SECONDS, soak, soak_lines  # noqa: E402

QUICK_LEVELS = [2.0, 4.0, 8.0]
FULL_LEVELS = [4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0]


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short steps, low rates, short talk")
    p.add_argument("--seconds", type=float, help="step length (default 60, quick 15)")
    p.add_argument("--max-cps", type=float, help="highest rate of the ramp")
    p.add_argument("--levels", type=float, nargs="+", help="the ramp's rates, calls/s")
    p.add_argument("--soak", action="store_true")
    p.add_argument(
        "--minutes", type=float, default=15.0, help="soak length after warm-up (60: long mode)"
    )
    p.add_argument(
        "--warmup",
        type=float,
        default=WARMUP_SECONDS,
        help="soak: seconds before RSS is measured (default: past every bounded window)",
    )
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
            result = await soak(r, cps * 0.7, args.minutes, args.warmup)
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
