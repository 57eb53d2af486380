"""Shared by the supervisor tests on the real Asterisk: the AMI trace of the sandbox's
read=all account, the API process's Services on the CTI stack, a live agent call
(caller -> stub IVR -> hotline-connect -> agent 1003, a Local channel), clean-up."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from cti.ami.client import AmiClient
from cti.ami.frames import Frame
from db.models import metadata
from devtools.services.asterisk import AsteriskInstance
from hotline.services import Services
from kernel.clock import SystemClock
from tests.harness.cti import CtiStack, stack_settings
from tests.harness.http_app import secret
from tests.support import eventually

AUDIT = metadata.tables["audit_log"]
AGENT_EXT, BOSS_EXT = "1003", "1901"
AGENT_PREFIX = f"Local/{AGENT_EXT}@hotline-test-agent-"


@dataclass
class Trace:
    """Every AMI event the read=all sandbox account sees."""

    frames: list[Frame] = field(default_factory=list)

    def of(self, event: str, **match: str) -> list[Frame]:
        return [
            f
            for f in self.frames
            if f.get("Event") == event and all(f.get(k) == v for k, v in match.items())
        ]

    def spy_starts(self, session_id: str) -> list[Frame]:
        return self.of("ChanSpyStart", SpyerUniqueid=session_id)

    def spy_stops(self, session_id: str) -> list[Frame]:
        return self.of("ChanSpyStop", SpyerUniqueid=session_id)

    def chanspy_data(self, session_id: str) -> list[str]:
        """The ChanSpy(...) argument each time the supervisor's channel ran it."""
        return [
            f.get("AppData", "")
            for f in self.of("Newexten", Uniqueid=session_id, Application="ChanSpy")
        ]


@contextlib.asynccontextmanager
async def tracing(asterisk: AsteriskInstance) -> AsyncIterator[Trace]:
    """Listen as the sandbox-only read=all account `hotline-trace` (dialplan events too)."""
    found = Trace()
    listener = AmiClient(
        host="127.0.0.1",
        port=asterisk.ami_port,
        username="hotline-trace",
        secret=asterisk.ami_secret,
        on_event=found.frames.append,
        wanted_events={"ChanSpyStart", "ChanSpyStop", "Newexten", "VarSet", "Hangup"},
    )
    listener.start()
    await listener.wait_ready(15)
    try:
        yield found
    finally:
        await listener.close()


def spy_services(
    cti_stack: CtiStack, asterisk: AsteriskInstance, db_url: str, **env: str
) -> Services:
    """Services of the API process: the CTI stack's bus, database and PBX commands."""
    settings = stack_settings(asterisk, db_url, HOTLINE_AUTH__SECRET_KEY=secret(), **env)
    return Services(
        settings=settings,
        bus=cti_stack.bus,
        engine=cti_stack.engine,
        sessions=cti_stack.sessions,
        pbx=cti_stack.bridge.commands,
        clock=SystemClock(),
    )


async def agent_call(stack: CtiStack, hangup_after: float = 120) -> str:
    """A caller through the stub IVR, connected to agent 1003; its Linkedid. The caller
    hangs up `hangup_after` seconds after the hotline answered it (the IVR's answer)."""
    linkedid = await stack.call(hangup_after=hangup_after)
    box: dict[str, str] = {}

    async def waiting() -> bool:
        for e in await stack.bridge.commands.queue_entries():
            if e.uniqueid.startswith(linkedid):
                box["channel"] = e.channel
                return True
        return False

    await eventually(waiting, 30, f"{linkedid} waiting in the holding queue")
    await stack.bridge.commands.redirect(box["channel"], context="hotline-connect", exten=AGENT_EXT)

    async def bridged() -> bool:
        return any(
            c.channel.startswith(AGENT_PREFIX) and c.bridge_id
            for c in await stack.bridge.commands.channels()
        )

    await eventually(bridged, 30, "the agent's leg in a bridge with the caller")
    return linkedid


async def hang_up_all(stack: CtiStack) -> None:
    pbx = stack.bridge.commands
    for channel in await pbx.channels():
        with contextlib.suppress(Exception):
            await pbx.hangup(channel.channel)

    async def idle() -> bool:
        return not await pbx.channels()

    await eventually(idle, 30, "no channels left")


async def audit_rows(services: Services, action_prefix: str = "supervisor.") -> list[Any]:
    async with services.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(AUDIT).where(AUDIT.c.action.startswith(action_prefix)).order_by(AUDIT.c.id)
        )
        return list(rows)
