"""Shared set-up for the agent API tests (test_api_*): Services on a migrated database
with an in-process bus, users and customers to act with, the app in-process (httpx) or
under a real uvicorn on a free loopback port (websockets)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from agent_api.tokens import TokenIssuer
from db.engine import async_session_factory, make_async_engine
from db.models import Call, Customer, CustomerPhone, Disposition, Role, Tier, User
from devtools.services.net import free_port
from hotline.services import Services
from kernel.bus.memory import MemoryBus
from kernel.clock import Clock, FakeClock
from kernel.config import load_settings
from tests.support import bounded_teardown

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse 电池"
# Cheap argon2 parameters for test users (the hash records them; sign-in upgrades it).
_HASH = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)


def secret() -> str:
    return secrets.token_hex(32)


@contextlib.asynccontextmanager
async def api_services(
    db_url: str, *, clock: Clock | None = None, env: Mapping[str, str] | None = None
) -> AsyncIterator[Services]:
    settings = load_settings(
        ROOT / "config.yaml",
        env={
            "HOTLINE_DATABASE__URL": db_url,
            "HOTLINE_AUTH__SECRET_KEY": secret(),
            **(env or {}),
        },
    )
    engine = make_async_engine(db_url)
    bus = MemoryBus()
    services = Services(
        settings=settings,
        bus=bus,
        engine=engine,
        sessions=async_session_factory(engine),
        clock=clock or FakeClock(time.time()),
    )
    try:
        yield services
    finally:
        await bounded_teardown(("bus", bus.close), ("database engine", engine.dispose))


def issuer_for(services: Services, clock: Clock | None = None) -> TokenIssuer:
    """An issuer with the app's secret (to mint tokens the app must refuse or accept)."""
    key = services.settings.auth.secret_key
    assert key is not None
    return TokenIssuer(
        key.get_secret_value(),
        minutes=services.settings.auth.token_minutes,
        ws_seconds=30,
        clock=clock or services.clock,
    )


async def add_user(
    services: Services,
    username: str,
    role: Role = Role.AGENT,
    extension: str | None = None,
    *,
    display_name: str | None = None,
    active: bool = True,
) -> User:
    async with services.sessions() as s:
        user = User(
            username=username,
            display_name=display_name or username,
            role=role,
            extension=extension,
            password_hash=_HASH,
            active=active,
        )
        s.add(user)
        await s.commit()
        await s.refresh(user)
        return user


async def add_customer(
    services: Services,
    name: str,
    phone: str,
    *,
    account: str | None = None,
    tier: str = "C",
    arrears: str = "0.00",
    district: str = "滨江区",
) -> Customer:
    async with services.sessions() as s:
        customer = Customer(
            name=name,
            account_number=account or f"9{secrets.randbelow(10**9):09d}",
            tier=Tier(tier),
            arrears=Decimal(arrears),
            district=district,
            address=f"{district}人民路1号",
        )
        s.add(customer)
        await s.flush()
        assert customer.id is not None
        s.add(CustomerPhone(customer_id=customer.id, number=phone, is_primary=True))
        await s.commit()
        await s.refresh(customer)
        return customer


async def add_call(
    services: Services,
    linkedid: str,
    *,
    caller: str = "13900000000",
    customer_id: int | None = None,
    agent_id: int | None = None,
    agents: list[str] | None = None,
    disposition: Disposition = Disposition.ANSWERED,
    started: dt.datetime | None = None,
) -> Call:
    started = started or services.clock.now() - dt.timedelta(minutes=5)
    async with services.sessions() as s:
        call = Call(
            linkedid=linkedid,
            caller_number=caller,
            dialed_number="95777",
            started_at=started,
            ended_at=None if disposition is Disposition.IN_PROGRESS else started,
            customer_id=customer_id,
            agent_id=agent_id,
            agents=agents or [],
            disposition=disposition,
            skill="billing",
        )
        s.add(call)
        await s.commit()
        await s.refresh(call)
        return call


@contextlib.asynccontextmanager
async def api_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process (with its lifespan), over httpx."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test") as c:
            yield c


@contextlib.asynccontextmanager
async def api_server(app: FastAPI) -> AsyncIterator[str]:
    """The app under a real uvicorn on a free loopback port; yields http://127.0.0.1:port."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        ws="websockets-sansio",
        # An open socket (a page's websocket) must not keep the server from stopping.
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if task.done():
                task.result()
            if time.monotonic() > deadline:
                raise TimeoutError("uvicorn did not start")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await bounded_teardown(("uvicorn", lambda: task))


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    r = await client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Desk:
    """A desktop's websocket, as the page uses it (tests/integration/desk/test_api_ws_auth.py)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.hello: dict[str, Any] = {}

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        frame: dict[str, Any] = json.loads(raw)
        return frame

    async def next_of(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.next(max(0.01, deadline - time.monotonic()))
            if frame.get("type") == kind:
                return frame

    async def closed(self, timeout: float = 5.0) -> tuple[int, str]:
        """Wait for the server to close; (code, reason). Frames before it are skipped."""
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.wait_for(self.ws.recv(), timeout)
        assert self.ws.close_code is not None
        return self.ws.close_code, self.ws.close_reason or ""


@contextlib.asynccontextmanager
async def desk(
    base: str,
    *,
    token: str | None = None,
    first: dict[str, Any] | None = None,
    query: str = "",
    origin: str | None = None,
    resume: dict[str, Any] | None = None,
    expect_hello: bool = True,
) -> AsyncIterator[Desk]:
    """Open /ws/agent; with `token`, authenticate by the first message (and resume)."""
    url = base.replace("http://", "ws://") + "/ws/agent" + query
    headers = {"Origin": origin} if origin else None
    async with connect(url, additional_headers=headers, proxy=None, open_timeout=5) as ws:
        d = Desk(ws)
        message: dict[str, Any] | None = first
        if message is None and token is not None:
            message = {"type": "auth", "token": token}
            if resume is not None:
                message["resume"] = resume
        if message is not None:
            with contextlib.suppress(ConnectionClosed):  # refused before reading it
                await ws.send(json.dumps(message))
        if expect_hello and (token is not None or "ticket=" in query):
            d.hello = await d.next()
            assert d.hello["type"] == "hello", d.hello
        yield d
