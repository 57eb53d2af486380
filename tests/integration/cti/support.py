"""The real Runtime against the sandbox Asterisk, stopped and started like `hotline serve`,
and a separate AMI session that plays callers while the backend is away."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.ami.frames import Frame
from cti.calllog.writer import CALLS
from cti.commands import AmiPbxCommands, OriginatePurpose
from db.engine import make_async_engine
from devtools.services.asterisk import AsteriskInstance, ami_session
from hotline.runtime import Runtime
from kernel.config import Settings
from tests.harness.cti import stack_settings
from tests.support import eventually

STOP_TIMEOUT = 30.0


@dataclass
class Backend:
    """`hotline serve --role pbx` in this process: bridge, call log, routing, IVR."""

    settings: Settings
    runtime: Runtime | None = None
    starts: int = 0

    async def start(self) -> Any:
        self.runtime = Runtime(self.settings, role="pbx")
        services = await self.runtime.start()
        self.starts += 1
        bridge = services.features.bridge
        assert bridge is not None
        await bridge.client.wait_ready(15)
        # The resync is counted before the recovery from CEL that follows it; a backend
        # stopped between the two has not saved its CEL cursor yet (CI run 8 under load:
        # the next start then began at the end of CEL and recovered nothing).
        await eventually(
            lambda: bridge.resyncs >= 1 and bridge.last_recovery is not None,
            15,
            "the bridge's first resync and recovery",
        )
        return bridge

    async def stop(self) -> None:
        if self.runtime is not None:
            runtime, self.runtime = self.runtime, None
            await asyncio.wait_for(runtime.stop(), STOP_TIMEOUT)


@contextlib.asynccontextmanager
async def backend(asterisk: AsteriskInstance, db_url: str) -> AsyncIterator[Backend]:
    b = Backend(stack_settings(asterisk, db_url))
    try:
        yield b
    finally:
        await b.stop()


@dataclass
class Callers:
    """Callers placed through a short-lived AMI session of their own (not the bridge's)."""

    commands: AmiPbxCommands
    placed: list[str] = field(default_factory=list)

    async def call(self, uid: str, caller: str, **variables: object) -> str:
        await self.commands.originate(
            "Local/95777@hotline-inbound",
            purpose=OriginatePurpose.OUTBOUND,
            uniqueid=uid,
            context="hotline-test-caller",
            exten="s",
            caller_id=f'"来电{caller[-2:]}" <{caller}>',
            variables={k: str(v) for k, v in variables.items()},
        )
        self.placed.append(uid)
        return uid

    async def channels(self) -> list[Frame]:
        frames = await self.commands.channel_frames()
        return [f for f in frames if f.get("Event") == "CoreShowChannel"]

    async def live(self, uids: list[str]) -> set[str]:
        wanted = set(uids)
        return {f["Linkedid"] for f in await self.channels() if f.get("Linkedid") in wanted}

    async def channel_in(self, uid: str, application: str) -> str | None:
        for f in await self.channels():
            if f.get("Linkedid") == uid and f.get("Application") == application:
                return str(f["Channel"])
        return None


@contextlib.asynccontextmanager
async def callers(asterisk: AsteriskInstance) -> AsyncIterator[Callers]:
    async with ami_session(asterisk, timeout=10) as client:
        yield Callers(AmiPbxCommands(client))


async def call_rows(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(CALLS).order_by(CALLS.c.id))).mappings().all()
    return [dict(r) for r in rows]


@contextlib.asynccontextmanager
async def database(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_async_engine(db_url)
    try:
        yield engine
    finally:
        await engine.dispose()


def disposition(row: dict[str, Any]) -> str:
    return str(getattr(row["disposition"], "value", row["disposition"]))
