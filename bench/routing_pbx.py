"""Routing benchmark, part 2: how fast a caller reaches an agent's phone, Hotline vs
app_queue, on one sandbox Asterisk 22 (its own instance, free ports).

The same three Local agents (Local/100x@hotline-test-agent, answering at once) serve:
- Hotline: caller -> IVR (scripted FastAGI) -> CTI bridge -> router -> offer on the bus
  -> a desktop stand-in acknowledges -> [hotline-connect] dials the agent;
- app_queue: caller -> Queue(bench-appqueue), strategy leastrecent, the same agents as
  static members (a queue and contexts added to this instance's configuration only).
Calls alternate, so both see the same conditions; times are AMI Timestamps (Asterisk's
clock), so the Python side's own delays are inside the measurement.

1. "queue": the IVR hands the caller over at once, so it waits in hold-general until
   the router redirects it: QueueCallerJoin -> DialBegin (the issue's definition).
2. "ivr": the IVR plays a 1 s "transferring you" prompt after its result, as real IVRs
   do, and Hotline pre-routes during it: end of the IVR (UserEvent BenchIvrEnd) ->
   DialBegin, against the same IVR followed by Queue(bench-appqueue).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench import sandbox_pbx
from bench.sandbox_pbx import static_queue
from cti.bridge import CtiBridge
from cti.commands import OriginatePurpose
from db.engine import async_session_factory, make_async_engine
from db.migrate import upgrade
from db.models import AgentSkill, User
from devtools.services.asterisk import (
    TEST_AGENT_ENDPOINT,
    AsteriskInstance,
)
from hotline.services import Features, Services
from kernel.bus.memory import MemoryBus
from kernel.clock import SystemClock
from kernel.config import load_settings
from routing.service import RoutingService
from tests.harness.stub_agi import IvrScript, stub_ivr
from tests.integration.routing.stack import prompting_ivr

REPO = Path(__file__).resolve().parents[1]
AGENTS = ("1001", "1002", "1003")
APPQUEUE = static_queue(
    "bench-appqueue",
    "bench/routing_pbx.py only: app_queue deciding by itself, for comparison.",
    "leastrecent",
    [(f"Local/{ext}@hotline-test-agent", f"Agent {ext}") for ext in AGENTS],
)
APPQUEUE_CONTEXT = """
[bench-appqueue-entry]
exten => s,1,Answer()
 same => n,Queue(bench-appqueue)
 same => n,Hangup()

[bench-appqueue-ivr]
; The same IVR and the same IVR tail as [hotline-ivr], then app_queue instead of Hotline.
exten => s,1,Answer()
 same => n,Set(AGISIGHUP=no)
 same => n,AGI(${HOTLINE_AGI}/bench)
 same => n,GotoIf($["${AGISTATUS}" = "HANGUP"]?gone)
 same => n,GotoIf($["${AGISTATUS}" != "SUCCESS"]?gone)
 same => n,GotoIf($["${HOTLINE_ACTION}" = "hangup"]?gone)
 same => n,GotoIf($["${HOTLINE_SKILL}" = ""]?gone)
 same => n,Goto(queue)
 same => n(queue),Queue(bench-appqueue)
 same => n(gone),Hangup()
"""
PROMPT_SECONDS = 1.0


class Watch:
    """QueueCallerJoin and DialBegin frames by Linkedid, from a listen-only AMI session."""

    def __init__(self) -> None:
        self.joined: dict[str, dict[str, str]] = {}
        self.ivr_end: dict[str, dict[str, str]] = {}
        self.dialled: dict[str, dict[str, str]] = {}
        self.answered: set[str] = set()
        self.changed = asyncio.Event()

    def on_frame(self, f: Any) -> None:
        linkedid = f.get("Linkedid", "")
        if f.get("Event") == "QueueCallerJoin":
            self.joined.setdefault(linkedid, dict(f))
        elif f.get("Event") == "UserEvent" and f.get("UserEvent") == "BenchIvrEnd":
            self.ivr_end.setdefault(linkedid, dict(f))
        elif f.get("Event") == "DialBegin" and "hotline-test-agent" in f.get("DestChannel", ""):
            self.dialled.setdefault(linkedid, dict(f))
        elif f.get("Event") == "DialEnd" and f.get("DialStatus") == "ANSWER":
            self.answered.add(linkedid)
        self.changed.set()

    async def latency(
        self, linkedid: str, start: dict[str, dict[str, str]], timeout: float = 15
    ) -> tuple[float, str]:
        deadline = time.monotonic() + timeout
        while linkedid not in self.dialled or linkedid not in start:
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{linkedid}: no agent dialled")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)
        begin, dial = start[linkedid], self.dialled[linkedid]
        return float(dial["Timestamp"]) - float(begin["Timestamp"]), dial["Channel"]

    async def answer(self, linkedid: str, timeout: float = 15) -> None:
        """Hang up only after the agent answered: no cancel-while-ringing race."""
        deadline = time.monotonic() + timeout
        while linkedid not in self.answered:
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), max(0.0, deadline - time.monotonic()))
            if time.monotonic() > deadline:
                raise TimeoutError(f"{linkedid}: not answered")


async def _agents(sessions: Any) -> None:
    async with sessions() as session:
        for ext in AGENTS:
            user = User(username=f"bench{ext}", display_name=ext, extension=ext, password_hash="x")
            session.add(user)
            await session.flush()
            assert user.id is not None
            session.add(AgentSkill(user_id=user.id, skill="general", level=5))
        await session.commit()


async def _desktop(bus: MemoryBus) -> None:
    sub = await bus.subscribe("offer")
    while True:
        msg = await sub.get()
        if msg.data.get("type") == "offer":
            await bus.publish(
                "offer",
                {
                    "type": "offer.delivered",
                    "agent_id": msg.data["agent_id"],
                    "call_id": msg.data["call_id"],
                },
            )


async def _idle(bridge: CtiBridge, router: RoutingService) -> None:
    for _ in range(500):
        agents = router.agents()
        if not await bridge.commands.channels() and all(
            a["state"] == "available" and a["presence"] in ("idle", "unknown") for a in agents
        ):
            return
        await asyncio.sleep(0.02)
    channels = [c.channel for c in await bridge.commands.channels()]
    raise TimeoutError(f"agents did not come back: {router.agents()} {channels}")


async def _call(bridge: CtiBridge, target: str) -> str:
    uid = f"t{uuid.uuid4().hex[:16]}"
    await bridge.commands.originate(
        target,
        purpose=OriginatePurpose.OUTBOUND,
        uniqueid=uid,
        context="hotline-test-caller",
        exten="s",
        caller_id='"Bench" <13800000000>',
    )
    return uid


async def pbx_bench(calls: int) -> bool:
    pbx = sandbox_pbx.start("routing", agent_endpoint=TEST_AGENT_ENDPOINT)
    tmp = tempfile.mkdtemp(prefix="hotline-bench-")
    url = f"sqlite:///{tmp}/bench.db"
    try:
        sandbox_pbx.extend(pbx, queues=APPQUEUE, extensions=APPQUEUE_CONTEXT)
        await asyncio.to_thread(upgrade, url)
        s = load_settings(
            REPO / "config.yaml", env={**pbx.settings_env(), "HOTLINE_DATABASE__URL": url}
        )
        queues = [q.model_copy(update={"wrap_up_seconds": 0}) for q in s.queues]
        s = s.model_copy(update={"queues": queues})
        return await _run(pbx, s, url, calls)
    finally:
        sandbox_pbx.stop(pbx)
        shutil.rmtree(tmp, ignore_errors=True)


async def _run(pbx: AsteriskInstance, s: Any, url: str, calls: int) -> bool:
    bus = MemoryBus()
    engine = make_async_engine(url)
    sessions = async_session_factory(engine)
    await _agents(sessions)
    watch = Watch()
    listener = sandbox_pbx.listener(
        pbx, watch.on_frame, {"QueueCallerJoin", "DialBegin", "DialEnd", "UserEvent"}
    )
    secret = pbx.ami_secret
    bridge = CtiBridge(s.pbx.ami, s.pbx.dialplan, bus, secret=secret)
    services = Services(
        s, bus, engine, sessions, bridge.commands, SystemClock(), Features(bridges=[bridge])
    )
    router = RoutingService(services)
    desk = asyncio.create_task(_desktop(bus))
    listener.start()
    await bridge.start()
    await bridge.client.wait_ready(15)
    await listener.wait_ready(15)
    await router.start()
    for agent in router.agents():
        await router.login(agent["agent_id"], ready=True)
    results: dict[str, dict[str, list[float]]] = {}
    try:
        phases = (
            (
                "queue",
                stub_ivr(pbx.fastagi_port, IvrScript(skill="general", linger=0.05)),
                "Local/s@bench-appqueue-entry",
                watch.joined,
            ),
            (
                "ivr",
                prompting_ivr(pbx.fastagi_port, IvrScript(skill="general"), PROMPT_SECONDS),
                "Local/s@bench-appqueue-ivr",
                watch.ivr_end,
            ),
        )
        for phase, ivr, appqueue_target, start in phases:
            sides: dict[str, list[float]] = {"hotline": [], "app_queue": []}
            async with ivr:
                for n in range(calls * 2 + 2):
                    await _idle(bridge, router)
                    side = ("hotline", "app_queue")[n % 2]
                    target = "Local/95777@hotline-inbound" if side == "hotline" else appqueue_target
                    linkedid = await _call(bridge, target)
                    try:
                        seconds, channel = await watch.latency(linkedid, start)
                    except TimeoutError as exc:
                        # What each side knew then, so a rare stall can be explained.
                        entries = await bridge.commands.queue_entries()
                        raise TimeoutError(
                            f"{phase} {side} round {n}: {exc}; joined="
                            f"{linkedid in watch.joined} ivr_end={linkedid in watch.ivr_end}; "
                            f"router line={router.waiting_calls()}; agents={router.agents()}; "
                            f"Asterisk queues={[(e.queue, e.uniqueid) for e in entries]}"
                        ) from None
                    if n >= 2:  # the first round of each side warms up
                        sides[side].append(seconds * 1000)
                    await watch.answer(linkedid)
                    await bridge.commands.hangup(channel)
            results[phase] = sides
    finally:
        await router.stop()
        await bridge.stop()
        await listener.close()
        desk.cancel()
        await bus.close()
        await engine.dispose()
    ok_queue = _report(
        "caller in holding queue -> agent dialled (QueueCallerJoin -> DialBegin)", results["queue"]
    )
    ok_ivr = _report(
        f"end of IVR ({PROMPT_SECONDS:.0f} s transfer prompt) -> agent dialled "
        "(Hotline pre-routes during the prompt)",
        results["ivr"],
    )
    return ok_queue and ok_ivr


def _report(title: str, sides: dict[str, list[float]]) -> bool:
    def line(name: str, ms: list[float]) -> str:
        q = statistics.quantiles(ms, n=10)
        return (
            f"  {name:9s} n={len(ms):3d}  median {statistics.median(ms):7.2f} ms  "
            f"p90 {q[-1]:7.2f} ms  min {min(ms):7.2f} ms  max {max(ms):7.2f} ms"
        )

    print(f"{title}, Asterisk 22:")
    print(line("hotline", sides["hotline"]))
    print(line("app_queue", sides["app_queue"]))
    ratio = statistics.median(sides["hotline"]) / statistics.median(sides["app_queue"])
    verdict = "met" if ratio <= 1.0 else "NOT met"
    print(f"  ratio hotline/app_queue (medians) {ratio:.2f}  (target <= 1.0: {verdict})")
    return ratio <= 1.0
