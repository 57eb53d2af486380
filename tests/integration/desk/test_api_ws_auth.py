"""The agent websocket is closed with 1008 unless a valid token of an agent (or
supervisor) arrives first from an allowed origin; it closes again when that token expires
or is signed out. A real uvicorn on a loopback port, a real websocket client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from db.models import Role
from desk.routes import ws as ws_route
from hotline.http import create_app
from hotline.services import Services
from kernel.clock import FakeClock
from tests.harness.http_app import (
    add_user,
    api_server,
    api_services,
    bearer,
    desk,
    login,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def db_backend() -> str:
    return "sqlite"  # the socket's behaviour does not depend on the database


@dataclass
class Env:
    services: Services
    clock: FakeClock
    base: str
    http: httpx.AsyncClient


@pytest.fixture
async def env(db_url: str) -> AsyncIterator[Env]:
    clock = FakeClock(1_900_000_000)
    async with api_services(db_url, clock=clock) as services:
        await add_user(services, "agent01", Role.AGENT, "1001")
        await add_user(services, "qa", Role.QA, "1902")
        async with (
            api_server(create_app(services)) as base,
            httpx.AsyncClient(base_url=base) as http,
        ):
            yield Env(services, clock, base, http)


async def test_given_a_valid_token_when_connecting_then_hello_names_the_agent(env: Env) -> None:
    token = await login(env.http, "agent01")
    async with desk(env.base, token=token) as d:
        assert d.hello["user"]["username"] == "agent01"
        assert d.hello["user"]["extension"] == "1001"
        await d.ws.send('{"type": "ping"}')
        assert (await d.next())["type"] == "pong"


@pytest.mark.parametrize(
    ("first", "reason"),
    [
        ({"type": "auth"}, "not valid"),
        ({"type": "auth", "token": "not.a.jwt"}, "not valid"),
        ({"type": "hello"}, "first message"),
    ],
    ids=["no token", "bad token", "no auth message"],
)
async def test_given_no_or_a_bad_token_when_connecting_then_closed_1008(
    env: Env, first: dict[str, str], reason: str
) -> None:
    async with desk(env.base, first=first) as d:
        code, why = await d.closed()
    assert code == 1008
    assert reason in why


async def test_given_an_expired_token_when_connecting_then_closed_1008(env: Env) -> None:
    token = await login(env.http, "agent01")
    env.clock.advance(env.services.settings.auth.token_minutes * 60 + 1)
    async with desk(env.base, first={"type": "auth", "token": token}) as d:
        code, why = await d.closed()
    assert (code, why) == (1008, "the token has expired: sign in again")


async def test_given_a_token_signed_with_another_key_then_closed_1008(env: Env) -> None:
    from agent_api.tokens import TokenIssuer

    forged, _ = TokenIssuer(
        "f" * 8 + "0123456789abcdef" * 2, minutes=5, ws_seconds=5, clock=env.clock
    ).issue(user_id=1, username="agent01", display_name="x", role="admin", extension="1001")
    async with desk(env.base, first={"type": "auth", "token": forged}) as d:
        assert (await d.closed())[0] == 1008


async def test_given_silence_when_connecting_then_closed_1008_after_the_auth_timeout(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ws_route, "AUTH_TIMEOUT", 0.3)
    async with desk(env.base) as d:
        code, why = await d.closed()
    assert code == 1008
    assert "no auth message" in why


async def test_given_another_sites_origin_when_connecting_then_closed_1008(env: Env) -> None:
    token = await login(env.http, "agent01")
    async with desk(
        env.base, first={"type": "auth", "token": token}, origin="http://evil.example"
    ) as d:
        assert await d.closed() == (1008, "origin not allowed")
    same = env.base  # the page's own origin is fine
    async with desk(env.base, token=token, origin=same) as d:
        assert d.hello["type"] == "hello"


async def test_given_a_qa_user_when_connecting_then_closed_1008(env: Env) -> None:
    token = await login(env.http, "qa")
    async with desk(env.base, first={"type": "auth", "token": token}) as d:
        code, why = await d.closed()
    assert code == 1008
    assert "agents and supervisors" in why


async def test_given_a_ticket_when_used_twice_then_the_second_socket_is_closed_1008(
    env: Env,
) -> None:
    token = await login(env.http, "agent01")
    r = await env.http.post("/api/auth/ws-ticket", headers=bearer(token))
    ticket = r.json()["ticket"]
    async with desk(env.base, query=f"?ticket={ticket}") as d:
        assert d.hello["user"]["username"] == "agent01"
    async with desk(env.base, query=f"?ticket={ticket}", expect_hello=False) as d:
        code, why = await d.closed()
    assert (code, why) == (1008, "this websocket ticket was already used")


async def test_given_an_open_socket_when_the_token_expires_then_it_is_closed_1008(env: Env) -> None:
    token = await login(env.http, "agent01")
    async with desk(env.base, token=token) as d:
        env.clock.advance(env.services.settings.auth.token_minutes * 60 + 1)
        code, why = await d.closed(timeout=5)
    assert (code, why) == (1008, "token expired: sign in again")


async def test_given_an_open_socket_when_refreshed_then_it_outlives_the_first_token(
    env: Env,
) -> None:
    """Two sockets of the same first token; only one is refreshed. Once the other is
    closed for expiry (so the expiry sweep has run past the first token's end), the
    refreshed one still answers: no sleep decides the outcome."""
    token = await login(env.http, "agent01")
    async with desk(env.base, token=token) as kept, desk(env.base, token=token) as lapsed:
        env.clock.advance(60)
        fresh = (await env.http.post("/api/auth/refresh", headers=bearer(token))).json()
        await kept.ws.send(json.dumps({"type": "auth", "token": fresh["access_token"]}))
        await kept.ws.send('{"type": "ping"}')  # answered after the auth was applied
        assert (await kept.next_of("pong"))["type"] == "pong"
        env.clock.advance(env.services.settings.auth.token_minutes * 60 - 30)  # past the first
        assert await lapsed.closed(timeout=10) == (1008, "token expired: sign in again")
        await kept.ws.send('{"type": "ping"}')
        assert (await kept.next_of("pong"))["type"] == "pong"


async def test_given_an_open_socket_when_its_token_is_signed_out_then_closed_1008(env: Env) -> None:
    token = await login(env.http, "agent01")
    async with desk(env.base, token=token) as d:
        r = await env.http.post("/api/auth/logout", headers=bearer(token))
        assert r.status_code == 204
        assert await d.closed() == (1008, "signed out")
    async with desk(env.base, first={"type": "auth", "token": token}) as d:
        assert (await d.closed())[0] == 1008
