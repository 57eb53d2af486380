"""Browser phone benchmark: how fast a call reaches the desk's browser phone (JsSIP over
WebSocket, WebRTC media) against a plain SIP phone, on one sandbox Asterisk 22.

    .venv/bin/python bench/softphone.py [--calls 20]

The same agent (extension 1003) on its two endpoints, in the same run:
- browser: the desk page (the real Runtime, role all) in headless Chromium with a fake
  microphone, signed in with "browser phone" and auto-answer on: registers 1003-web;
- SIPp (the baseline): a plain PJSIP UDP phone registered as 1003
  (tests/fixtures/sipp/phone-session.xml) that answers at once (bench/sipp/
  phone-answer.xml: 180, 200 with PCMU) and echoes the RTP it receives (-rtp_echo).
Calls alternate between the two (one warm-up call each first), each an AMI Originate
straight to PJSIP/1003-web or PJSIP/1003 that plays a tone once answered. From the
Originate (the bench's wall clock just before it is sent):
- ringing: the channel's Newstate Ringing (the phone's 180), AMI Timestamp;
- answered: Newstate Up (the phone's 200 OK), AMI Timestamp;
- media: the phone receives RTP. Browser: the page's own RTCPeerConnection stats
  (inbound-rtp packetsReceived > 0, polled every 5 ms in the page). SIPp cannot tell,
  so its echo stands in: Asterisk has received RTP back (CHANNEL(rtcp,rxcount) > 0,
  polled every 10 ms over AMI); the same Asterisk-side figure is given for the browser
  ("media at Asterisk": audio both ways).
Prints p50/p99 per step and side and the ratios browser/SIPp, and where the page's
answer goes (its own clock: incoming INVITE -> local SDP answer, i.e. getUserMedia and
createAnswer; SDP -> 200 OK sent, i.e. ICE gathering). The browser's extra time is
WebRTC's: the microphone opened on answer, then ICE and DTLS before any SRTP.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from playwright.async_api import Page, expect  # noqa: E402

from bench import sandbox_pbx  # noqa: E402
from cti.ami.client import AmiClient  # noqa: E402
from cti.ami.errors import AmiError  # noqa: E402
from devtools.services.asterisk import (  # noqa: E402
    TEST_AGENT_ENDPOINT,
    AsteriskInstance,
    free_udp_port,
)
from hotline.runtime import Runtime  # noqa: E402
from tests.browser.softphone_support import (  # noqa: E402
    desk_page,
    fake_mic_chromium,
    sign_in_with_browser_phone,
    tone,
)
from tests.harness.http_app import PASSWORD  # noqa: E402
from tests.integration.hotline.support import add_staff, restart_settings  # noqa: E402

EXT = "1003"
SIDES = ("browser", "sipp")
STEPS = ("ringing", "answered", "media", "media at Asterisk")
SIPP = REPO / "tests" / "fixtures" / "sipp"
SCENARIOS = (SIPP / "phone-session.xml", REPO / "bench" / "sipp" / "phone-answer.xml")
STEP_TIMEOUT = 15.0

# In the page: stamp each incoming call's steps with the wall clock (ms since the epoch).
PAGE_PROBE = """() => {
  const now = () => performance.timeOrigin + performance.now();
  window.benchCalls = [];
  window.hotlinePhone.ua.on("newRTCSession", (e) => {
    if (e.originator !== "remote") return;
    const mark = { ringing: now() };
    window.benchCalls.push(mark);
    const session = e.session;
    session.on("sdp", (d) => { if (d.originator === "local") mark.sdp = mark.sdp || now(); });
    session.on("accepted", () => { mark.accepted = now(); });
    const poll = setInterval(async () => {
      if (session.isEnded()) { clearInterval(poll); return; }
      const pc = session.connection;
      if (!pc || mark.media) return;
      const stats = await pc.getStats();
      stats.forEach((r) => {
        if (r.type === "inbound-rtp" && r.kind === "audio" && r.packetsReceived > 0) {
          mark.media = mark.media || now();
        }
      });
      if (mark.media) clearInterval(poll);
    }, 5);
  });
}"""


class Events:
    """Newstate and Hangup events by Uniqueid, with Asterisk's Timestamp."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], float] = {}
        self.changed = asyncio.Event()

    def on_frame(self, frame: dict[str, str]) -> None:
        uid = frame.get("Uniqueid", "")
        at = float(frame.get("Timestamp") or time.time())
        if frame.get("Event") == "Newstate":
            self.seen.setdefault((uid, frame.get("ChannelState", "")), at)
        elif frame.get("Event") == "Hangup":
            self.seen.setdefault((uid, "hangup"), at)
        self.changed.set()

    async def wait(self, uid: str, state: str) -> float:
        """When channel `uid` reached `state` (ChannelState, or "hangup")."""
        async with asyncio.timeout(STEP_TIMEOUT):
            while (uid, state) not in self.seen:
                if (uid, "hangup") in self.seen:
                    raise RuntimeError(f"{uid} hung up before state {state}")
                self.changed.clear()
                await self.changed.wait()
        return self.seen[(uid, state)]


async def asterisk_rx(ami: AmiClient, channel: str) -> float:
    """When Asterisk has received the phone's first RTP on `channel` (polled)."""
    async with asyncio.timeout(STEP_TIMEOUT):
        while True:
            with contextlib.suppress(AmiError):
                r = await ami.send(
                    "Getvar", {"Channel": channel, "Variable": "CHANNEL(rtcp,rxcount)"}
                )
                if int(r.get("Value") or 0) > 0:
                    return time.time()
            await asyncio.sleep(0.01)


async def channel_of(ami: AmiClient, uid: str) -> str:
    async with asyncio.timeout(STEP_TIMEOUT):
        while True:
            r = await ami.send("Getvar", {"Channel": uid, "Variable": "CHANNEL(name)"})
            if r.get("Value"):
                return str(r.get("Value"))
            await asyncio.sleep(0.01)


async def one_call(
    ami: AmiClient, events: Events, page: Page, side: str, played: str
) -> dict[str, float]:
    uid = f"bench-{uuid.uuid4().hex[:12]}"
    endpoint = f"{EXT}-web" if side == "browser" else EXT
    calls_before = await page.evaluate("window.benchCalls.length")
    t0 = time.time()
    await ami.send(
        "Originate",
        {
            "Channel": f"PJSIP/{endpoint}",
            "Application": "Playback",
            "Data": played,
            "ChannelId": uid,
            "CallerID": '"Bench" <13800000000>',
            "Timeout": "15000",
            "Async": "true",
        },
    )
    ringing = await events.wait(uid, "5")
    answered = await events.wait(uid, "6")
    channel = await channel_of(ami, uid)
    at_asterisk = await asterisk_rx(ami, channel)
    out = {
        "ringing": ringing - t0,
        "answered": answered - t0,
        "media at Asterisk": at_asterisk - t0,
    }
    if side == "browser":
        async with asyncio.timeout(STEP_TIMEOUT):
            while True:
                marks = await page.evaluate("window.benchCalls")
                if len(marks) > calls_before and marks[-1].get("media"):
                    break
                await asyncio.sleep(0.02)
        mark = marks[-1]
        out["media"] = mark["media"] / 1000 - t0
        # Where the page's answer goes: up to its local SDP answer (getUserMedia,
        # createAnswer), then until the 200 OK left (ICE gathering), in the page's clock.
        out["page: incoming -> SDP"] = (mark["sdp"] - mark["ringing"]) / 1000
        out["page: SDP -> 200 OK"] = (mark["accepted"] - mark["sdp"]) / 1000
    else:
        out["media"] = out["media at Asterisk"]  # SIPp cannot tell: its echo heard
    await ami.send("Hangup", {"Channel": channel})
    await events.wait(uid, "hangup")
    if side == "browser":
        await expect(page.locator("#softphone")).to_have_attribute("data-call", "idle")
    return {k: v * 1000 for k, v in out.items()}


@contextlib.asynccontextmanager
async def sipp_phone(pbx: AsteriskInstance) -> AsyncIterator[asyncio.subprocess.Process]:
    """SIPp registered as EXT, answering INVITEs and echoing RTP, until stopped."""
    work = pbx.dir / "sipp"
    work.mkdir(exist_ok=True)
    for f in SCENARIOS:
        shutil.copy(f, work / f.name)
    argv = [
        *("sipp", "-sf", SCENARIOS[0].name, "-oocsf", SCENARIOS[1].name),
        *("-set", "ext", EXT, "-au", EXT, "-ap", pbx.sip_password),
        *("-m", "1", "-d", "3600000", "-rtp_echo", "-mp", str(free_udp_port())),
        *("-i", "127.0.0.1", "-p", str(free_udp_port()), "-nostdin"),
        f"127.0.0.1:{pbx.sip_port}",
    ]
    cwd = str(pbx.asterisk_path(work))
    proc = await asyncio.create_subprocess_exec(
        *pbx.root.command(["env", "-C", cwd, *argv]),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        await sandbox_pbx.end_process(proc, 5)


async def registered(pbx: AsteriskInstance, aor: str) -> None:
    """Asterisk lists the phone's contact (checked every 100 ms, at most 20 s)."""
    for _ in range(200):
        if f"{aor}/sip:" in await asyncio.to_thread(pbx.cli, "pjsip show contacts"):
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{aor} did not register")


async def run(pbx: AsteriskInstance, calls: int, tmp: Path) -> dict[str, dict[str, list[float]]]:
    settings = restart_settings(pbx, f"sqlite:///{tmp}/bench.db")
    played = tone(pbx.sounds_dir / "bench-softphone.wav", 600, 8000, 30)
    data = str(pbx.asterisk_path(played.with_suffix("")))
    mic = tone(tmp / "mic.wav", 440, 48000, 60)
    events = Events()
    results: dict[str, dict[str, list[float]]] = {s: {k: [] for k in STEPS} for s in SIDES}
    runtime = Runtime(settings)
    await asyncio.wait_for(runtime.start(), 60)
    ami = sandbox_pbx.listener(pbx, events.on_frame, {"Newstate", "Hangup"})
    errors: list[str] = []
    try:
        services = runtime.services
        assert services is not None
        await add_staff(services, {EXT: {"business": 5}})
        ami.start()
        await ami.wait_ready(15)
        base = f"http://{settings.http.host}:{settings.http.port}"
        async with (
            fake_mic_chromium(mic) as chromium,
            desk_page(chromium, errors) as page,
            sipp_phone(pbx),
        ):
            await sign_in_with_browser_phone(page, base, f"agent{EXT}", PASSWORD)
            await page.locator("#phone-auto").check()
            await page.evaluate(PAGE_PROBE)
            await registered(pbx, f"{EXT}-web")
            await registered(pbx, EXT)
            for n in range(2 * (calls + 1)):
                side = SIDES[n % 2]
                steps = await one_call(ami, events, page, side, data)
                if n >= 2:  # the first call of each side warms up
                    for k, v in steps.items():
                        results[side].setdefault(k, []).append(v)
                await asyncio.sleep(0.2)
    finally:
        await ami.close()
        await asyncio.wait_for(runtime.stop(), 30)
    if errors:
        raise RuntimeError(f"JavaScript errors on the page: {errors}")
    return results


def pct(ms: list[float], p: int) -> float:
    if len(ms) < 2:
        return ms[0]
    return statistics.quantiles(ms, n=100, method="inclusive")[p - 1]


def report(results: dict[str, dict[str, list[float]]]) -> None:
    n = len(results["browser"]["ringing"])
    print(f"Originate -> step, ms, {n} calls each side, Asterisk 22, extension {EXT}:")
    head = f"  {'step':18s} {'browser p50':>11s} {'p99':>8s}  {'SIPp p50':>9s} {'p99':>8s}"
    print(head + f"  {'ratio p50':>9s} {'ratio p99':>9s}")
    for step in STEPS:
        b, s = results["browser"][step], results["sipp"][step]
        bp50, bp99, sp50, sp99 = pct(b, 50), pct(b, 99), pct(s, 50), pct(s, 99)
        print(
            f"  {step:18s} {bp50:11.1f} {bp99:8.1f}  {sp50:9.1f} {sp99:8.1f}"
            f"  {bp50 / sp50:9.2f} {bp99 / sp99:9.2f}"
        )
    for part in ("page: incoming -> SDP", "page: SDP -> 200 OK"):
        ms = results["browser"][part]
        print(f"  {part:24s} p50 {pct(ms, 50):6.1f}  p99 {pct(ms, 99):6.1f}  (browser only)")
    print(
        "  media: browser = first RTP in the page's RTCPeerConnection stats; SIPp = its "
        "echo back at Asterisk (SIPp cannot tell when it received RTP)"
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    pbx = sandbox_pbx.start(
        "softphone", sip_password=secrets.token_hex(8), agent_endpoint=TEST_AGENT_ENDPOINT
    )
    tmp = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    try:
        results = await run(pbx, args.calls, tmp)
    finally:
        sandbox_pbx.stop(pbx)
        shutil.rmtree(tmp, ignore_errors=True)
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
