"""A running CTI stack against the sandbox Asterisk: bus + bridge + call log writer.

`cti_stack` gives a started CtiStack on a fresh migrated database (SQLite and
PostgreSQL, via `db_url`), on an Asterisk cleared of what earlier tests left (clean_pbx);
`CtiStack.call(...)` originates a Local-channel test caller into the hotline
(deploy/asterisk/extensions_test.conf) and returns its Linkedid.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cti.ami.client import AmiClient
from cti.ami.errors import AmiActionFailed
from cti.bridge import CtiBridge
from cti.calllog.writer import CALLS, CallLogWriter
from cti.commands import AmiPbxCommands, OriginatePurpose, PbxError
from db.engine import async_session_factory, make_async_engine
from devtools.services.asterisk import AsteriskInstance
from devtools.services.asterisk import ami_session as sandbox_ami_session
from kernel.bus.memory import MemoryBus
from kernel.config import Settings, load_settings
from tests.support import bounded_teardown, eventually

REPO = Path(__file__).resolve().parents[2]


@dataclass
class CtiStack:
    settings: Settings
    bus: MemoryBus
    bridge: CtiBridge
    writer: CallLogWriter
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    async def call(
        self,
        *,
        number: str = "95777",
        caller: str = "13800138000",
        name: str = "测试用户",
        dtmf: str = "",
        hangup_after: float | None = None,
        extra: dict[str, str] | None = None,
    ) -> str:
        """Originate a test caller; returns the call's Linkedid (the caller leg's id)."""
        uid = f"t{uuid.uuid4().hex[:16]}"
        variables = {"DTMF": dtmf, **(extra or {})}
        if hangup_after is not None:
            variables["HANGUP_AFTER"] = str(hangup_after)
        await self.bridge.commands.originate(
            f"Local/{number}@{self.settings.pbx.dialplan.inbound_context}",
            purpose=OriginatePurpose.OUTBOUND,
            uniqueid=uid,
            context="hotline-test-caller",
            exten="s",
            caller_id=f'"{name}" <{caller}>',
            variables=variables,
        )
        return uid

    async def call_row(self, linkedid: str) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(CALLS).where(CALLS.c.linkedid == linkedid))).first()
            return dict(row._mapping) if row else None

    async def wait_ended(self, linkedid: str, timeout: float = 30) -> dict[str, Any]:
        async def done() -> bool:
            row = await self.call_row(linkedid)
            return row is not None and row["disposition"] != "in_progress"

        await eventually(done, timeout, f"call {linkedid} to end in the call log")
        row = await self.call_row(linkedid)
        assert row is not None
        return row

    async def count_calls(self) -> int:
        async with self.engine.connect() as conn:
            count = await conn.execute(sa.select(sa.func.count()).select_from(CALLS))
            return int(count.scalar_one())


def stack_settings(asterisk: AsteriskInstance, db_url: str, **env: str) -> Settings:
    return load_settings(
        REPO / "config.yaml",
        env={**asterisk.settings_env(), "HOTLINE_DATABASE__URL": db_url, **env},
    )


async def clean_pbx(asterisk: AsteriskInstance, settings: Settings) -> None:
    """Give a test the worker's Asterisk as a fresh one would be: earlier tests on this
    worker may have left calls still running (the bridge's resync would take them for
    this test's calls), callback requests in AstDB (the router would recover them) and
    dialplan globals (the router's wait estimates, which make callers hear an
    announcement before they queue; a changed offer timeout). Through a short-lived AMI
    session of its own, before the test's bridge logs in."""
    async with ami_session(asterisk) as client:
        pbx = AmiPbxCommands(client)
        for channel in await pbx.channels():
            with contextlib.suppress(PbxError):
                await pbx.hangup(channel.channel)

        async def idle() -> bool:
            return not await pbx.channels()

        await eventually(idle, 10, "the calls of earlier tests to end")
        with contextlib.suppress(AmiActionFailed):  # "Database entry not found": none left
            await client.send("DBDelTree", {"Family": "hotline/callback"})
        for queue in settings.queues:
            await pbx.set_var("", f"HOTLINE_EWT_{queue.name}", "")
        timeout = str(settings.routing.offer_timeout_seconds)
        await pbx.set_var("", "HOTLINE_OFFER_TIMEOUT", timeout)


@contextlib.asynccontextmanager
async def ami_session(asterisk: AsteriskInstance) -> AsyncIterator[AmiClient]:
    """A separate, short-lived AMI session (beside a bridge's, or while its link is down)."""
    async with sandbox_ami_session(asterisk, timeout=10) as client:
        yield client


@pytest.fixture
async def cti_stack(asterisk: AsteriskInstance, db_url: str) -> AsyncIterator[CtiStack]:
    settings = stack_settings(asterisk, db_url)
    await clean_pbx(asterisk, settings)
    bus = MemoryBus()
    engine = make_async_engine(db_url)
    sessions = async_session_factory(engine)
    secret = settings.pbx.ami.secret.get_secret_value() if settings.pbx.ami.secret else ""
    bridge = CtiBridge(settings.pbx.ami, settings.pbx.dialplan, bus, secret=secret)
    writer = CallLogWriter(bus, sessions)
    await writer.start()
    await bridge.start()
    await bridge.client.wait_ready(15)
    stack = CtiStack(settings, bus, bridge, writer, engine, sessions)
    try:
        yield stack
    finally:
        await bounded_teardown(
            ("CTI bridge", bridge.stop),
            ("call log writer", writer.stop),
            ("bus", bus.close),
            ("database engine", engine.dispose),
        )
