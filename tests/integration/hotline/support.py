"""The whole backend (hotline.runtime.Runtime, role "all") stopped and started again
against the sandbox Asterisk, with the test's own AMI session as Asterisk's side: callers
(Local channels through the real IVR), hang-ups while the backend is away, and what
Asterisk says (QueueStatus, CoreShowChannels). Agents are Local channels
(pbx.dialplan.agent_endpoint from the asterisk fixture) that answer and stay on the call.
The bus is the in-process one, or Redis Streams in a database of its own (`fresh_redis`).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import redis.asyncio as aioredis
from argon2 import PasswordHasher

from cti.ami.client import AmiClient
from cti.ami.errors import AmiActionFailed
from cti.commands import AmiPbxCommands, ChannelNotFound, OriginatePurpose, PbxError
from db.models import AgentSkill, Role, User
from devtools.services.asterisk import AsteriskInstance, ami_session
from devtools.services.net import free_port
from hotline.runtime import Runtime
from hotline.services import Services
from kernel.config import Settings
from tests.harness.cti import stack_settings
from tests.harness.http_app import PASSWORD, login
from tests.support import eventually

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The real IVR asks the business calendar: open all day, every day, for these tests.
ALWAYS_OPEN = "{" + ", ".join(f'{d}: [{{start: "00:00", end: "23:59:59"}}]' for d in DAYS) + "}"


def restart_settings(asterisk: AsteriskInstance, db_url: str, **env: str) -> Settings:
    return stack_settings(
        asterisk,
        db_url,
        **env,
        HOTLINE_HTTP__PORT=str(free_port()),
        HOTLINE_AUTH__SECRET_KEY=secrets.token_hex(32),
        HOTLINE_BUSINESS_HOURS__WEEKLY=ALWAYS_OPEN,
        HOTLINE_BUSINESS_HOURS__HOLIDAYS="[]",
        HOTLINE_BUSINESS_HOURS__EXTRA_WORKING_DAYS="[]",
    )


async def add_staff(services: Services, agents: dict[str, dict[str, int]]) -> dict[str, int]:
    """Agents (extension -> skills) who can sign in over HTTP, and a supervisor."""
    hashed = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    ids: dict[str, int] = {}
    async with services.sessions() as s:
        for ext, skills in {**agents, "": {}}.items():
            user = User(
                username=f"agent{ext}" if ext else "supervisor",
                display_name=f"坐席{ext}" if ext else "班长",
                role=Role.AGENT if ext else Role.SUPERVISOR,
                extension=ext or None,
                languages=["zh", "en"],
                password_hash=hashed,
            )
            s.add(user)
            await s.flush()
            assert user.id is not None
            ids[ext or "supervisor"] = user.id
            s.add_all(AgentSkill(user_id=user.id, skill=k, level=v) for k, v in skills.items())
        await s.commit()
    return ids


async def fresh_redis(redis_url: str, db: int = 11) -> str:
    """A Redis database of its own, emptied: the Runtime's bus streams and the call log's
    consumer group carry nothing from other tests."""
    url = f"{redis_url.rsplit('/', 1)[0]}/{db}"
    client = aioredis.Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    return url


@dataclass
class AsteriskSide:
    """The test's own AMI session: what callers do and what Asterisk says."""

    settings: Settings
    client: AmiClient
    pbx: AmiPbxCommands
    placed: list[str] = field(default_factory=list)

    async def call(self, caller: str, dtmf: str) -> str:
        """A caller dialling the hotline and pressing `dtmf`; returns its Linkedid."""
        uid = f"t{uuid.uuid4().hex[:16]}"
        await self.pbx.originate(
            f"Local/{self.settings.center.hotline_numbers[0]}@hotline-inbound",
            purpose=OriginatePurpose.OUTBOUND,
            uniqueid=uid,
            context="hotline-test-caller",
            exten="s",
            caller_id=f'"测试" <{caller}>',
            variables={"DTMF": dtmf},
        )
        self.placed.append(uid)
        return uid

    async def hang_up(self, linkedid: str) -> None:
        for leg in await self.pbx.channels():
            if leg.linkedid == linkedid:
                with contextlib.suppress(ChannelNotFound):  # gone with its other half
                    await self.pbx.hangup(leg.channel)

    async def holding(self) -> dict[str, list[tuple[str, int]]]:
        """Holding queue -> (Linkedid, seconds waited) of each caller in it."""
        linked = {c.uniqueid: c.linkedid for c in await self.pbx.channels()}
        out: dict[str, list[tuple[str, int]]] = {}
        for e in await self.pbx.queue_entries():
            if e.queue.startswith(self.settings.pbx.dialplan.holding_queue_prefix):
                out.setdefault(e.queue, []).append((linked.get(e.uniqueid, ""), e.wait_seconds))
        return out

    async def clear(self) -> None:
        """No channel, AstDB callback capture or router wait estimate (a global the
        dialplan announces before queueing) left: the Asterisk is shared."""
        with contextlib.suppress(AmiActionFailed):
            await self.client.send("DBDelTree", {"Family": "hotline/callback"})
        for queue in self.settings.queues:
            await self.pbx.set_var("", f"HOTLINE_EWT_{queue.name}", "")
        with contextlib.suppress(PbxError):
            for leg in await self.pbx.channels():
                with contextlib.suppress(PbxError):
                    await self.pbx.hangup(leg.channel)

        async def idle() -> bool:
            return not await self.pbx.channels()

        await eventually(idle, 15, "no channels left")


@contextlib.asynccontextmanager
async def asterisk_side(
    asterisk: AsteriskInstance, settings: Settings
) -> AsyncIterator[AsteriskSide]:
    async with ami_session(asterisk) as client:
        side = AsteriskSide(settings, client, AmiPbxCommands(client))
        await side.clear()
        try:
            yield side
        finally:
            await side.clear()


@dataclass
class Backend:
    """One `hotline serve` (Runtime role "all") and an HTTP client to its API."""

    runtime: Runtime
    http: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        assert self.runtime.services is not None
        return self.runtime.services

    async def as_user(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            self.tokens[username] = await login(self.http, username)
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    async def get(self, path: str, username: str = "supervisor") -> Any:
        r = await self.http.get(path, headers=await self.as_user(username))
        assert r.status_code == 200, r.text
        return r.json()

    async def post(self, path: str, username: str, body: dict[str, Any] | None = None) -> Any:
        r = await self.http.post(path, json=body, headers=await self.as_user(username))
        assert r.status_code in (200, 201), r.text
        return r.json()

    async def board(self) -> dict[str, Any]:
        board: dict[str, Any] = await self.get("/api/supervisor/board")
        return board

    async def agent(self, extension: str) -> dict[str, Any]:
        board = await self.board()
        return next(a for a in board["agents"] if a["extension"] == extension)


@contextlib.asynccontextmanager
async def backend(settings: Settings) -> AsyncIterator[Backend]:
    runtime = Runtime(settings)
    await asyncio.wait_for(runtime.start(), 60)
    try:
        base = f"http://{settings.http.host}:{settings.http.port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            yield Backend(runtime, http)
    finally:
        await asyncio.wait_for(runtime.stop(), 30)


@contextlib.asynccontextmanager
async def staffed_center(
    asterisk: AsteriskInstance,
    db_url: str,
    redis_url: str | None,
    agents: dict[str, dict[str, int]],
    **env: str,
) -> AsyncIterator[tuple[Settings, Services, Backend]]:
    """The backend with `agents` (extension -> skills) and a supervisor who can sign in:
    one Runtime (all), or a pbx Runtime and an api Runtime over Redis (`redis_url`).
    Yields the settings, the pbx side's services and an HTTP client to the API."""
    if redis_url is not None:
        env["HOTLINE_REDIS__URL"] = redis_url
    settings = restart_settings(asterisk, db_url, **env)
    runtimes = [Runtime(settings, role="all" if redis_url is None else "pbx")]
    if redis_url is not None:
        runtimes.append(Runtime(settings, role="api", migrate=False))
    started: list[Runtime] = []
    try:
        for runtime in runtimes:
            await runtime.start()
            started.append(runtime)
        services = started[0].services
        assert services is not None
        duties = started[0].duties
        assert duties is not None
        await eventually(lambda: duties.active, 20, "the pbx side leads")
        await add_staff(services, agents)
        assert services.features.routing is not None
        await services.features.routing.reload_agents()
        base = f"http://{settings.http.host}:{settings.http.port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            yield settings, services, Backend(started[-1], http)
    finally:
        for runtime in reversed(started):
            await runtime.stop()
