"""bench/capacity.py's rig: its own sandbox Asterisk 22 (free loopback ports, its own
configuration additions: bench/capacity_plain.py), the SIPp agents and callers inside the
sandbox root, the backend in a process of its own (bench/capacity_backend.py), what
Asterisk says about each caller (an AMI session of its own), and /proc readings.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import capacity_plain as plain
from bench import sandbox_pbx
from cti.ami.client import AmiClient
from devtools.services.asterisk import AsteriskInstance, free_udp_port

REPO = Path(__file__).resolve().parents[1]
SIPP_DIR = REPO / "bench" / "sipp"
CALLER_XML = "capacity-caller.xml"
AGENTS_XML = "capacity-agents.xml"
ANSWER_XML = "capacity-agent-answer.xml"
FIRST_EXT = 2001
FIRST_PHONE = 13900000000
CALLER_CHANNEL = f"PJSIP/{plain.CALLER_ENDPOINT}-"
# What counts as the IVR's first prompt: Hotline's first AGI command that plays or asks,
# the plain dialplan's first Playback/Read.
PROMPT_COMMANDS = ("STREAM FILE", "GET DATA", "SAY ", "EXEC Playback", "EXEC Read")
PROMPT_APPS = ("Playback", "Read")


# --- RFC 2833 key presses as pcap (SIPp's play_pcap_audio) ------------------------------


def _pcap(path: Path, rtp_packets: list[tuple[float, bytes]]) -> None:
    """RTP packets (seconds from the start, RTP header + payload) as a pcap of UDP over
    IPv4 over Ethernet: SIPp rewrites the addresses and ports when it plays it."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for n, (at, rtp) in enumerate(rtp_packets):
        udp = struct.pack("!HHHH", 6000, 6002, 8 + len(rtp), 0) + rtp
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n, 0, 64, 17, 0, b"\x7f\0\0\x01",
            b"\x7f\0\0\x01",
        )  # fmt: skip
        frame = b"\x00" * 12 + b"\x08\x00" + ip + udp
        usec = round(at * 1_000_000)
        out += struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame))
        out += frame
    path.write_bytes(out)


def dtmf_pcap(path: Path, digit: int, *, ssrc: int, timestamp: int, seq: int) -> None:
    """One key press as RFC 2833 telephone-events (payload 101): 10 packets 20 ms apart
    with a growing duration, then the end packet three times. The RTP timestamp is this
    press's own: Asterisk ignores an end whose timestamp it has seen already."""
    packets = []
    for n in range(13):
        end = n >= 10
        rtp = struct.pack(
            "!BBHII", 0x80, (0x80 if n == 0 else 0) | 101, (seq + n) & 0xFFFF, timestamp, ssrc
        )
        payload = struct.pack("!BBH", digit, (0x80 if end else 0) | 10, 160 * min(n + 1, 10))
        packets.append((0.02 * min(n, 10) + 0.005 * max(0, n - 10), rtp + payload))
    _pcap(path, packets)


def silence_pcap(path: Path, *, ssrc: int, seconds: float = 0.5) -> None:
    """PCMA silence (payload 8), 20 ms packets: what a phone sends as soon as it is
    answered (Asterisk's Answer() waits up to 500 ms for the caller's first frame)."""
    packets = []
    for n in range(round(seconds / 0.02)):
        rtp = struct.pack("!BBHII", 0x80, (0x80 if n == 0 else 0) | 8, n, 160 * n, ssrc)
        packets.append((0.02 * n, rtp + b"\xd5" * 160))
    _pcap(path, packets)


# --- what Asterisk says about each caller ------------------------------------------------


@dataclass
class CallerLeg:
    uniqueid: str
    side: str  # "hotline" or "plain"
    created: float  # Asterisk's Timestamp of Newchannel (the INVITE arrived)
    prompt: float | None = None
    answered: float | None = None  # an agent answered (DialEnd ANSWER)
    ended: float | None = None


@dataclass
class Watch:
    """Caller legs (PJSIP/bench-callers-*) by Uniqueid, from an AMI session of its own
    (the sandbox's listen-only trace user, with server-side filters)."""

    legs: dict[str, CallerLeg] = field(default_factory=dict)
    by_channel: dict[str, str] = field(default_factory=dict)
    active: int = 0
    peak: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)  # a caller leg ended

    def reset_peak(self) -> None:
        self.peak = self.active

    def on_frame(self, f: Any) -> None:
        event = f.get("Event")
        channel = f.get("Channel", "")
        if not channel.startswith(CALLER_CHANNEL):
            return
        uid = f.get("Uniqueid", "")
        stamp = float(f.get("Timestamp") or time.time())
        if event == "Newchannel":
            side = "plain" if f.get("Exten") == plain.PLAIN_NUMBER else "hotline"
            self.legs[uid] = CallerLeg(uid, side, stamp)
            self.by_channel[channel] = uid
            self.active += 1
            self.peak = max(self.peak, self.active)
            return
        leg = self.legs.get(uid)
        if leg is None:
            return
        if event == "AGIExecStart" and leg.prompt is None:
            if f.get("Command", "").startswith(PROMPT_COMMANDS):
                leg.prompt = stamp
        elif event == "Newexten" and leg.prompt is None:
            if f.get("Application") in PROMPT_APPS:
                leg.prompt = stamp
        elif event == "DialEnd" and f.get("DialStatus") == "ANSWER" and leg.answered is None:
            leg.answered = stamp
        elif event == "Hangup" and leg.ended is None:
            leg.ended = stamp
            self.active -= 1
            self.changed.set()
            self.by_channel.pop(channel, None)


async def watch_asterisk(pbx: AsteriskInstance, watch: Watch) -> AmiClient:
    client = sandbox_pbx.listener(
        pbx,
        watch.on_frame,
        {"Newchannel", "AGIExecStart", "Newexten", "DialEnd", "Hangup"},
        username="hotline-trace",  # the sandbox's read-all user (cti/pbx_config.py)
    )
    client.start()
    await client.wait_ready(15)
    # Filters on Asterisk's side: the trace user reads everything (VarSet floods).
    for expr in (
        "Event: (Newchannel|AGIExecStart|DialEnd|Hangup)",
        "Application: (Playback|Read)",
    ):
        await client.send("Filter", {"Operation": "Add", "Filter": expr})
    return client


# --- /proc ------------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    """pid and its descendants."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its descendants (the live ones)."""
    total = 0
    for p in _tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """The process tree's resident memory (MB): VmRSS, or one of its parts (RssAnon:
    the heap; RssFile: mapped files, such as the IVR reader's memory-mapped SQLite)."""
    total, key = 0, f"{field}:"
    for p in _tree(pid):
        with contextlib.suppress(OSError, ValueError), open(f"/proc/{p}/status") as f:
            for line in f:
                if line.startswith(key):
                    total += int(line.split()[1])
    return total / 1024


# --- SIPp -------------------------------------------------------------------------------


@dataclass
class SippResult:
    created: int
    successful: int
    failed: int
    returncode: int


def _stat(path: Path) -> SippResult | None:
    try:
        lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    except OSError:
        return None
    if len(lines) < 2:
        return None
    head = lines[0].split(";")
    last = lines[-1].split(";")
    row = dict(zip(head, last, strict=False))

    def n(name: str) -> int:
        try:
            return int(row.get(name, "0") or 0)
        except ValueError:
            return 0

    return SippResult(
        n("TotalCallCreated"), n("SuccessfulCall(C)"), n("FailedCall(C)"), returncode=0
    )


class Rig:
    """One sandbox instance with the bench's additions, its SIPp agents and a backend."""

    def __init__(self, *, agents: int, customers: int, talk: tuple[int, int], db_url: str):
        self.n_agents, self.n_customers, self.talk, self.db_url = agents, customers, talk, db_url
        self.agents = [str(FIRST_EXT + n) for n in range(agents)]
        self.password = secrets.token_hex(8)
        self.pbx: AsteriskInstance | None = None
        self.backend: asyncio.subprocess.Process | None = None
        self.http = ""
        self.watch = Watch()
        self.ami: AmiClient | None = None
        self._agents_proc: asyncio.subprocess.Process | None = None
        self._queues_conf = ""
        self.pool = agents

    @property
    def work(self) -> Path:
        assert self.pbx is not None
        return self.pbx.dir / "sipp"

    # -- Asterisk --------------------------------------------------------------------------

    def start_pbx(self) -> AsteriskInstance:
        pbx = sandbox_pbx.start("capacity", sip_password=secrets.token_hex(8))
        self.pbx = pbx
        self._queues_conf = (pbx.etc_dir / "queues.conf").read_text(encoding="utf-8")
        sandbox_pbx.extend(
            pbx,
            pjsip=plain.pjsip(self.agents, self.password),
            queues=plain.queues(self.agents),
            extensions=plain.EXTENSIONS,
        )
        self._write_work_files()
        return pbx

    def _write_work_files(self) -> None:
        work = self.work
        work.mkdir(exist_ok=True)
        shutil.copy(SIPP_DIR / CALLER_XML, work / CALLER_XML)
        shutil.copy(SIPP_DIR / AGENTS_XML, work / AGENTS_XML)
        answer = (SIPP_DIR / ANSWER_XML).read_text(encoding="utf-8")
        answer = re.sub(
            r'<pause distribution="uniform" min="\d+" max="\d+"/>',
            f'<pause distribution="uniform" min="{self.talk[0] * 1000}" '
            f'max="{self.talk[1] * 1000}"/>',
            answer,
        )
        (work / ANSWER_XML).write_text(answer, encoding="utf-8")
        lines = [f"{ext};{self.password};" for ext in self.agents]
        (work / "agents.csv").write_text("SEQUENTIAL\n" + "\n".join(lines) + "\n")
        phones = [f"{FIRST_PHONE + n};" for n in range(self.n_customers)]
        (work / "callers.csv").write_text("RANDOM\n" + "\n".join(phones) + "\n")
        silence_pcap(work / "silence.pcap", ssrc=0x1A2B3C01)
        dtmf_pcap(work / "dtmf-1a.pcap", 1, ssrc=0x1A2B3C01, timestamp=16000, seq=100)
        dtmf_pcap(work / "dtmf-1b.pcap", 1, ssrc=0x1A2B3C01, timestamp=56000, seq=300)
        assert self.pbx is not None
        for p in work.iterdir():
            os.chown(p, self.pbx.root.uid, self.pbx.root.gid)

    def _sipp_argv(self, *args: str) -> list[str]:
        assert self.pbx is not None
        argv = [
            "sipp",
            *args,
            *("-i", "127.0.0.1", "-p", str(free_udp_port()), "-mp", str(free_udp_port())),
            "-nostdin",
            f"127.0.0.1:{self.pbx.sip_port}",
        ]
        cwd = str(self.pbx.asterisk_path(self.work))
        return self.pbx.root.command(["env", "-C", cwd, *argv])

    async def start_agents(self) -> None:
        """One SIPp process registers every agent and answers their calls."""
        argv = self._sipp_argv(
            *("-sf", AGENTS_XML, "-oocsf", ANSWER_XML, "-inf", "agents.csv"),
            *("-m", str(self.n_agents), "-r", "100", "-l", str(self.n_agents)),
            *("-d", "86400000", "-rtp_echo", "-max_socket", "4096"),
            *("-trace_err", "-error_file", "agents-errors.log"),
            *(("-trace_msg",) if os.environ.get("BENCH_TRACE") else ()),
        )
        self._agents_proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert self.pbx is not None
        deadline = time.monotonic() + 60
        while True:
            out = await asyncio.to_thread(self.pbx.cli, "pjsip show contacts")
            found = len(re.findall(r"Contact:\s+2\d{3}/sip:", out))
            if found >= self.n_agents:
                return
            if self._agents_proc.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"only {found} of {self.n_agents} SIPp agents registered")
            await asyncio.sleep(0.5)

    async def callers(
        self, number: str, rate: float, count: int, tag: str, timeout: float
    ) -> SippResult:
        """`count` callers dialling `number` at `rate` calls/s; returns when all ended."""
        stat = self.work / f"{tag}.csv"
        stat.unlink(missing_ok=True)
        argv = self._sipp_argv(
            *("-sf", CALLER_XML, "-inf", "callers.csv", "-s", number),
            # -l: no cap on simultaneous calls. SIPp's default, 3 x the scenario's own
            # pauses (~8 s) x rate, held the 4 Dec figures to 24 x rate simultaneous.
            *("-r", f"{rate:g}", "-rp", "1000", "-m", str(count), "-l", str(count)),
            *("-trace_stat", "-stf", stat.name, "-fd", "1", "-max_socket", "4096"),
            *("-trace_err", "-error_file", f"{tag}-errors.log"),
            *(("-trace_msg",) if os.environ.get("BENCH_TRACE") else ()),
        )
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            rc = await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            await sandbox_pbx.end_process(proc, 10)
            rc = -1
        except asyncio.CancelledError:  # interrupted: no SIPp left placing calls
            await asyncio.shield(sandbox_pbx.end_process(proc, 10))
            raise
        result = _stat(stat) or SippResult(0, 0, count, rc)
        result.returncode = rc
        if result.created < count:  # never placed: failed too
            result.failed += count - result.created
        return result

    # -- the backend -------------------------------------------------------------------------

    async def start_backend(self) -> None:
        assert self.pbx is not None
        self.backend = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.capacity_backend",
            *("--instance", self.pbx.name, "--db", self.db_url),
            *("--agents", str(self.n_agents), "--first-ext", str(FIRST_EXT)),
            *("--customers", str(self.n_customers), "--first-phone", str(FIRST_PHONE)),
            cwd=str(REPO),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.backend.stdout is not None
        line = await asyncio.wait_for(self.backend.stdout.readline(), 180)
        if not line:
            raise RuntimeError("the backend exited before it was ready")
        self.http = json.loads(line)["http"]

    async def stop_backend(self) -> None:
        if self.backend is not None:
            await sandbox_pbx.end_process(self.backend, 60)

    @property
    def backend_pid(self) -> int:
        assert self.backend is not None
        return self.backend.pid

    async def bridge_lag(self) -> list[tuple[float, int]]:
        """The bridge's event-lag histogram from the backend's /metrics: (upper bound,
        cumulative count), summed over nodes."""
        import httpx

        async with httpx.AsyncClient(timeout=10) as http:
            text = (await http.get(f"{self.http}/metrics")).text
        sums: dict[float, int] = {}
        for line in text.splitlines():
            if not line.startswith("hotline_bridge_event_lag_seconds_bucket"):
                continue
            le = re.search(r'le="([^"]+)"', line)
            if le is None:
                continue
            bound = float("inf") if le.group(1) == "+Inf" else float(le.group(1))
            sums[bound] = sums.get(bound, 0) + int(float(line.rsplit(" ", 1)[1]))
        return sorted(sums.items())

    # -- all of it ---------------------------------------------------------------------------

    async def set_pool(self, n: int) -> None:
        """The agent pool of the next step, the same for both sides: the first n agents
        are the plain queue's static members (queues.conf rewritten, app_queue reloaded)
        and the agents Hotline's router has signed in ready (the others signed out). Only
        between steps, with no call up."""
        assert self.pbx is not None
        assert self.backend is not None
        n = min(n, self.n_agents)
        if n == self.pool:
            return
        pbx = self.pbx
        (pbx.etc_dir / "queues.conf").write_text(
            self._queues_conf + plain.queues(self.agents[:n]), encoding="utf-8"
        )
        await asyncio.to_thread(pbx.cli, "module reload app_queue.so")
        deadline = time.monotonic() + 15
        while True:
            out = await asyncio.to_thread(pbx.cli, f"queue show {plain.PLAIN_QUEUE}")
            members = len(re.findall(r"\(PJSIP/2\d{3}\)", out))
            if members == n:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"plain queue: {members} static members after reload, not {n}")
            await asyncio.sleep(0.5)
        backend = self.backend
        assert backend.stdin is not None
        assert backend.stdout is not None
        backend.stdin.write(f"pool {n}\n".encode())
        await backend.stdin.drain()
        deadline = time.monotonic() + 60
        while True:  # its answer (anything else the backend prints on stdout is skipped)
            line = await asyncio.wait_for(backend.stdout.readline(), deadline - time.monotonic())
            if not line:
                raise RuntimeError("the backend exited")
            with contextlib.suppress(ValueError):
                reply = json.loads(line)
                if isinstance(reply, dict) and "pool" in reply:
                    break
        if reply.get("ready") != n:
            raise RuntimeError(f"backend: {reply.get('ready')} agents signed in, not {n}")
        self.pool = n

    async def channels(self) -> int:
        """Channels up on Asterisk (callers' and agents' legs, anything)."""
        assert self.pbx is not None
        out = await asyncio.to_thread(self.pbx.cli, "core show channels count")
        m = re.search(r"(\d+) active channels?", out)
        if m is None:
            raise RuntimeError(f"core show channels count: {out!r}")
        return int(m.group(1))

    async def drain(self, timeout: float = 180) -> float:
        """Wait until Asterisk has no channel at all (the previous step's callers and
        agents all hung up); raise if it never drains within timeout. Returns the wait."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        while True:
            left = await self.channels()
            if left == 0 and self.watch.active == 0:
                return time.monotonic() - t0
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Asterisk did not drain in {timeout:g} s: {left} channels up, "
                    f"{self.watch.active} caller legs seen up"
                )
            self.watch.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.watch.changed.wait(), 1)

    async def wait_idle(self, timeout: float = 120) -> None:
        """No caller leg left on Asterisk."""
        deadline = time.monotonic() + timeout
        while self.watch.active > 0 and time.monotonic() < deadline:
            self.watch.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.watch.changed.wait(), 1)

    async def stop(self) -> None:
        if self.ami is not None:
            await self.ami.close()
        await self.stop_backend()
        if self._agents_proc is not None:
            await sandbox_pbx.end_process(self._agents_proc, 10)
        if self.pbx is not None:
            sandbox_pbx.stop(self.pbx)


@contextlib.asynccontextmanager
async def rig(
    *, agents: int, customers: int, talk: tuple[int, int], db_url: str
) -> AsyncIterator[Rig]:
    r = Rig(agents=agents, customers=customers, talk=talk, db_url=db_url)
    try:
        await asyncio.to_thread(r.start_pbx)
        assert r.pbx is not None
        r.ami = await watch_asterisk(r.pbx, r.watch)
        await r.start_agents()
        await r.start_backend()
        yield r
    finally:
        await r.stop()
