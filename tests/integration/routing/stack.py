"""The routing feature on the sandbox Asterisk: the CTI stack (bus + bridge + call log)
plus agents in the database, RoutingService, a stand-in agent desktop that acknowledges
screen-pops, and a recorder of everything on the bus.

The IVR is tests/harness/stub_agi.py (scripted per caller), so these tests do not depend on the
IVR feature. Agents are Local/<ext>@hotline-test-agent (the asterisk fixture sets
pbx.dialplan.agent_endpoint so); their behaviour is set with dialplan globals
HOTLINE_TEST_<ext>_NO_ANSWER / _TALK_TIME / _ANSWER_DELAY.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cti.ami.errors import AmiActionFailed
from db.models import AgentSkill, User
from devtools.services.asterisk import AsteriskInstance
from hotline.services import Features, Services
from kernel.bus.port import BusClosed, BusMessage
from kernel.clock import SystemClock
from kernel.config import Settings
from kernel.config.center import QueueSettings
from kernel.lifecycle import cancel_and_wait
from routing.service import RoutingService
from tests.harness.cti import CtiStack
from tests.harness.stub_agi import IvrScript, stub_ivr
from tests.support import bounded_teardown, eventually


def queue(name: str, steps: Sequence[tuple[str, int | None]], **extra: Any) -> QueueSettings:
    return QueueSettings.model_validate(
        {
            "name": name,
            "skill": name,
            "label": {"zh": name, "en": name},
            "steps": [{"target": t, "timeout_seconds": s} for t, s in steps],
            **extra,
        }
    )


def with_routing(settings: Settings, queues: Sequence[QueueSettings], **routing: Any) -> Settings:
    """The stack's settings with other queue steps / routing keys (Asterisk keeps the
    holding queues of config.yaml: only the router's side changes)."""
    return settings.model_copy(
        update={
            "queues": list(queues),
            "routing": settings.routing.model_copy(update=routing),
        }
    )


@dataclass
class Recorder:
    """Every event on the bus topics, in publish order (one subscription)."""

    messages: list[BusMessage] = field(default_factory=list)

    def of(self, topic: str, kind: str, **match: Any) -> list[dict[str, Any]]:
        return [
            m.data
            for m in self.messages
            if m.topic == topic
            and m.data.get("type") == kind
            and all(m.data.get(k) == v for k, v in match.items())
        ]

    def index(self, topic: str, kind: str, **match: Any) -> int:
        for i, m in enumerate(self.messages):
            if (
                m.topic == topic
                and m.data.get("type") == kind
                and all(m.data.get(k) == v for k, v in match.items())
            ):
                return i
        raise AssertionError(f"no {kind} on {topic} with {match}")


@dataclass
class RoutingStack:
    cti: CtiStack
    asterisk: AsteriskInstance
    service: RoutingService
    recorder: Recorder
    agents: dict[str, int]  # extension -> agent id (users.id)
    script: IvrScript
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def caller(
        self,
        *,
        skill: str,
        tier: str,
        number: str,
        language: str = "zh",
        wait_queued: bool = True,
        **call: Any,
    ) -> str:
        """Place a caller whose IVR result is (skill, tier); returns its Linkedid once it
        waits in hold-<skill> (the IVR script is shared: callers are placed one by one)."""
        self.script.skill, self.script.tier = skill, tier
        self.script.priority = self.cti.settings.tier_priority(tier)
        linkedid = await self.cti.call(caller=number, **call)
        if wait_queued:
            await eventually(
                lambda: bool(self.recorder.of("call", "call.queued", call_id=linkedid)),
                20,
                f"caller {number} queued",
            )
        return linkedid

    def answered(self) -> list[tuple[str, str]]:
        """(agent extension, linkedid) in the order agents answered (router's agents only)."""
        return [
            (str(e["agent"]), str(e["call_id"]))
            for e in self.recorder.of("call", "call.answered")
            if e["agent"] in self.agents
        ]

    async def global_var(self, name: str, value: str) -> None:
        """A dialplan global (AMI Setvar without a Channel; "" clears it)."""
        await self.cti.bridge.commands.set_var("", name, value)


async def _prompting_session(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    script: IvrScript,
    prompt_seconds: float,
) -> None:
    """Like tests/harness/stub_agi.py, but the IVR keeps talking after its result (the "please
    hold, transferring you" prompt), as a real IVR does; route "bench" runs only that
    prompt, without the HotlineIvrResult the router listens to (a caller for app_queue).
    Ends with UserEvent BenchIvrEnd (a timing mark)."""

    async def agi(line: str) -> None:
        writer.write(line.encode() + b"\n")
        await writer.drain()
        await reader.readline()

    try:
        env = {}
        while line := (await reader.readline()).decode().strip():
            key, _, value = line.partition(": ")
            env[key] = value
        for name, value in (
            ("HOTLINE_SKILL", script.skill),
            ("HOTLINE_PRIORITY", str(script.priority)),
            ("HOTLINE_ACTION", "queue"),
        ):
            await agi(f'SET VARIABLE {name} "{value}"')
        if env.get("agi_network_script") == "ivr":
            await agi(
                f'EXEC UserEvent "HotlineIvrResult,Outcome: queue,Skill: {script.skill},'
                f"CallPriority: {script.priority},CustomerId: ,Tier: {script.tier},"
                f'CallLanguage: zh,Path: main"'
            )
        await agi(f"WAIT FOR DIGIT {int(prompt_seconds * 1000)}")
        await agi('EXEC UserEvent "BenchIvrEnd,Mark: 1"')
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@contextlib.asynccontextmanager
async def prompting_ivr(
    port: int, script: IvrScript, prompt_seconds: float
) -> AsyncIterator[IvrScript]:
    server = await asyncio.start_server(
        lambda r, w: _prompting_session(r, w, script, prompt_seconds), "127.0.0.1", port
    )
    try:
        yield script
    finally:
        server.close()
        await server.wait_closed()


async def add_agents(cti: CtiStack, agents: dict[str, dict[str, int]]) -> dict[str, int]:
    ids: dict[str, int] = {}
    async with cti.sessions() as session:
        for ext, skills in agents.items():
            user = User(
                username=f"agent{ext}",
                display_name=f"坐席{ext}",
                extension=ext,
                languages=["zh", "en"],
                password_hash="x",
            )
            session.add(user)
            await session.flush()
            assert user.id is not None
            ids[ext] = user.id
            for skill, level in skills.items():
                session.add(AgentSkill(user_id=user.id, skill=skill, level=level))
        await session.commit()
    return ids


async def _record(sub: Any, recorder: Recorder) -> None:
    with contextlib.suppress(BusClosed):
        while True:
            recorder.messages.append(await sub.get())


async def _desktop(cti: CtiStack, sub: Any, delay: float) -> None:
    """The agent API's part: show the screen-pop, then acknowledge it."""
    with contextlib.suppress(BusClosed):
        while True:
            msg = await sub.get()
            if msg.data.get("type") == "offer":
                if delay:
                    await asyncio.sleep(delay)
                await cti.bus.publish(
                    "offer",
                    {
                        "type": "offer.delivered",
                        "agent_id": msg.data["agent_id"],
                        "call_id": msg.data["call_id"],
                    },
                )


@contextlib.asynccontextmanager
async def routing_stack(
    cti: CtiStack,
    asterisk: AsteriskInstance,
    agents: dict[str, dict[str, int]],
    *,
    settings: Callable[[Settings], Settings] | None = None,
    desktop_delay: float = 0.0,
    prompt_seconds: float | None = None,
) -> AsyncIterator[RoutingStack]:
    """prompt_seconds: the IVR talks that long after its result (see prompting_ivr)."""
    ids = await add_agents(cti, agents)
    s = settings(cti.settings) if settings else cti.settings
    services = Services(
        settings=s,
        bus=cti.bus,
        engine=cti.engine,
        sessions=cti.sessions,
        pbx=cti.bridge.commands,
        clock=SystemClock(),
        features=Features(bridges=[cti.bridge]),
    )
    recorder = Recorder()
    record_sub = await cti.bus.subscribe("call", "pbx", "offer", "agent")
    desk_sub = await cti.bus.subscribe("offer")
    tasks = [
        asyncio.create_task(_record(record_sub, recorder)),
        asyncio.create_task(_desktop(cti, desk_sub, desktop_delay)),
    ]
    # Callback requests other tests left in AstDB would be "recovered" into this database.
    with contextlib.suppress(AmiActionFailed):  # "Database entry not found": nothing left
        await cti.bridge.client.send("DBDelTree", {"Family": "hotline/callback"})
    service = RoutingService(services)
    await service.start()
    script = IvrScript(linger=0.1)
    ivr = (
        stub_ivr(asterisk.fastagi_port, script)
        if prompt_seconds is None
        else prompting_ivr(asterisk.fastagi_port, script, prompt_seconds)
    )
    async with ivr:
        stack = RoutingStack(cti, asterisk, service, recorder, ids, script, tasks)
        try:
            yield stack
        finally:
            await bounded_teardown(
                ("routing service", service.stop),
                ("recorder", record_sub.close),
                ("desktop", desk_sub.close),
                ("test tasks", lambda: cancel_and_wait(tasks, what="routing stack tasks")),
                ("hang up", lambda: _hang_up_everything(cti)),
            )


async def _hang_up_everything(cti: CtiStack) -> None:
    """Leave the shared Asterisk clean for the next test."""
    with contextlib.suppress(Exception):
        for ch in await cti.bridge.commands.channels():
            with contextlib.suppress(Exception):
                await cti.bridge.commands.hangup(ch.channel)

        async def idle() -> bool:
            return not await cti.bridge.commands.channels()

        await eventually(idle, 10, "no channels left")
