"""Record real Asterisk 22 AMI traffic for the call scenarios, as test fixtures.

    .venv/bin/python scripts/record_ami_traces.py [scenario ...]

Starts a sandbox instance, listens as the sandbox-only `hotline-trace` account (read=all,
so the traces keep Asterisk's real VarSet/Newexten-heavy mix), drives each scenario with
Local-channel callers and agents and a scripted FastAGI peer, and writes
tests/fixtures/ami/<scenario>.trace (exact TCP reads; see cti/ami/trace.py).
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cti.ami.client import AmiClient  # noqa: E402
from cti.ami.frames import Frame  # noqa: E402
from cti.ami.trace import TraceWriter  # noqa: E402
from cti.commands import AmiPbxCommands, OriginatePurpose  # noqa: E402
from devtools.services.asterisk import (  # noqa: E402
    TEST_AGENT_ENDPOINT,
    AsteriskInstance,
    free_udp_port,
    start_instance,
)
from devtools.services.net import free_port  # noqa: E402
from kernel.config import load_settings  # noqa: E402
from tests.harness.stub_agi import IvrScript, stub_ivr  # noqa: E402

OUT = REPO / "tests" / "fixtures" / "ami"


class Driver:
    def __init__(self, instance: AsteriskInstance) -> None:
        self.instance = instance
        self.events: list[Frame] = []
        self.client = AmiClient(
            host="127.0.0.1",
            port=instance.ami_port,
            username=instance.ami_username,
            secret=instance.ami_secret,
            on_event=self.events.append,
        )
        self.pbx = AmiPbxCommands(self.client)

    async def call(
        self, caller: str, name: str, hangup_after: float, uid: str | None = None
    ) -> str:
        uid = uid or f"t{uuid.uuid4().hex[:12]}"
        await self.pbx.originate(
            "Local/95777@hotline-inbound",
            purpose=OriginatePurpose.OUTBOUND,
            uniqueid=uid,
            context="hotline-test-caller",
            exten="s",
            caller_id=f'"{name}" <{caller}>',
            variables={"HANGUP_AFTER": str(hangup_after)},
        )
        return uid

    async def wait(self, name: str, pred: Callable[[Frame], bool], timeout: float = 20) -> Frame:
        async with asyncio.timeout(timeout):
            while True:
                for f in self.events:
                    if f.get("Event") == name and pred(f):
                        return f
                await asyncio.sleep(0.05)

    async def queued(self, uid: str) -> Frame:
        return await self.wait("QueueCallerJoin", lambda f: f.get("Linkedid") == uid)

    async def connect(self, channel: str, ext: str) -> None:
        await self.pbx.redirect(channel, context="hotline-connect", exten=ext)

    async def idle(self, timeout: float = 30) -> None:
        async with asyncio.timeout(timeout):
            while await self.pbx.channels():
                await asyncio.sleep(0.2)


async def ivr_hangup(d: Driver, script: IvrScript) -> None:
    script.steps, script.linger = [("main", "1"), ("billing_menu", "")], 3.0
    await d.call("13800000001", "王芳", hangup_after=2.5)


async def queue_abandon(d: Driver, script: IvrScript) -> None:
    script.skill, script.priority, script.tier = "billing", 30, "A"
    uid = await d.call("13800000002", "李娜", hangup_after=4)
    await d.queued(uid)


async def answered(d: Driver, script: IvrScript) -> None:
    script.skill = "repair"
    uid = await d.call("13800000003", "张伟（燃气）", hangup_after=8)
    join = await d.queued(uid)
    await asyncio.sleep(1)
    await d.connect(join["Channel"], "1001")


async def transferred(d: Driver, script: IvrScript) -> None:
    script.skill = "billing"
    uid = await d.call("13800000004", "刘洋", hangup_after=12)
    join = await d.queued(uid)
    await d.connect(join["Channel"], "1001")
    await d.wait("DialEnd", lambda f: f.get("Linkedid") == uid and f.get("DialStatus") == "ANSWER")
    await asyncio.sleep(2)
    # The router moves the caller: a Redirect out of the bridge to the second agent.
    await d.connect(join["Channel"], "1002")


async def same_number_twice(d: Driver, script: IvrScript) -> None:
    script.skill = "general"
    await d.call("13900000000", "陈静", hangup_after=3)
    await d.call("13900000000", "陈静", hangup_after=4)


SCENARIOS: dict[str, Callable[[Driver, IvrScript], Awaitable[None]]] = {
    "ivr_hangup": ivr_hangup,
    "queue_abandon": queue_abandon,
    "answered": answered,
    "transferred": transferred,
    "same_number_twice": same_number_twice,
}


async def record(names: list[str]) -> None:
    settings = load_settings(REPO / "config.yaml", env={})
    instance = start_instance(
        "trace-recorder",
        settings=settings,
        ami_port=free_port(),
        sip_port=free_udp_port(),
        fastagi_port=free_port(),
        ami_secret=secrets.token_hex(12),
        agent_endpoint=TEST_AGENT_ENDPOINT,
    )
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        driver = Driver(instance)
        driver.client.start()
        await driver.client.wait_ready()
        async with stub_ivr(instance.fastagi_port) as script:
            for name in names:
                with (OUT / f"{name}.trace").open("wb") as out:
                    tap = TraceWriter(out)
                    listener = AmiClient(
                        host="127.0.0.1",
                        port=instance.ami_port,
                        username="hotline-trace",
                        secret=instance.ami_secret,
                        on_event=lambda f: None,
                    )
                    listener.tap = tap
                    listener.start()
                    await listener.wait_ready()
                    driver.events.clear()
                    await SCENARIOS[name](driver, script)
                    await asyncio.sleep(0.5)
                    await driver.idle()
                    await asyncio.sleep(0.5)
                    await listener.close()
                print(f"{name}: {tap.reads} reads -> {out.name}")
                script.__init__()  # type: ignore[misc]
        await driver.client.close()
    finally:
        instance.stop()


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:] or list(SCENARIOS)))
