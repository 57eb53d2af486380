"""Sign-in: argon2 passwords, one answer for every wrong credential, throttling per
username + address, sign-out revoking the token, refresh, and an audit trail."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from db.models import Role, User
from hotline.http import create_app
from hotline.services import Services
from kernel.audit import AUDIT
from kernel.clock import FakeClock
from tests.harness.http_app import (
    PASSWORD,
    add_user,
    api_client,
    api_services,
    bearer,
)


@pytest.fixture
async def api(db_url: str) -> AsyncIterator[tuple[Services, httpx.AsyncClient, FakeClock]]:
    clock = FakeClock(1_900_000_000)
    async with api_services(db_url, clock=clock) as services:
        await add_user(services, "agent01", Role.AGENT, "1001", display_name="李娜")
        await add_user(services, "gone", Role.AGENT, "1009", active=False)
        async with api_client(create_app(services)) as client:
            yield services, client, clock


async def test_given_the_right_password_when_signing_in_then_a_token_and_a_stronger_hash(
    api: tuple[Services, httpx.AsyncClient, FakeClock],
) -> None:
    services, client, _ = api
    r = await client.post("/api/auth/login", json={"username": "agent01", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["user"] == {
        "id": body["user"]["id"],
        "username": "agent01",
        "display_name": "李娜",
        "role": "agent",
        "extension": "1001",
    }
    assert body["expires_at"] == 1_900_000_000 + 15 * 60
    me = await client.get("/api/auth/me", headers=bearer(body["access_token"]))
    assert me.json()["username"] == "agent01"
    async with services.sessions() as s:
        user = (await s.exec(select(User).where(User.username == "agent01"))).one()
    # The test user's cheap hash was upgraded to the default argon2id parameters.
    assert user.password_hash.startswith("$argon2id$")
    assert "m=65536" in user.password_hash
    assert user.last_login_at is not None


@pytest.mark.parametrize(
    ("username", "password"),
    [("agent01", "wrong"), ("nobody", PASSWORD), ("gone", PASSWORD)],
    ids=["wrong password", "unknown user", "deactivated user"],
)
async def test_given_wrong_credentials_then_the_same_401_for_each(
    api: tuple[Services, httpx.AsyncClient, FakeClock], username: str, password: str
) -> None:
    _, client, _ = api
    r = await client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 401
    assert r.json() == {"error": "bad_credentials", "message": "wrong username or password"}


async def test_given_repeated_failures_then_that_user_from_that_address_waits(
    api: tuple[Services, httpx.AsyncClient, FakeClock],
) -> None:
    services, client, clock = api
    limit = services.settings.auth.login_attempts
    for _ in range(limit):
        r = await client.post("/api/auth/login", json={"username": "agent01", "password": "x"})
        assert r.status_code == 401
    r = await client.post("/api/auth/login", json={"username": "agent01", "password": PASSWORD})
    assert r.status_code == 429  # even the right password, until the window moves
    assert r.json()["error"] == "too_many_attempts"
    assert int(r.headers["Retry-After"]) == services.settings.auth.login_window_seconds + 1
    other = await client.post("/api/auth/login", json={"username": "gone", "password": "x"})
    assert other.status_code == 401  # another username is not blocked
    clock.advance(services.settings.auth.login_window_seconds)
    r = await client.post("/api/auth/login", json={"username": "agent01", "password": PASSWORD})
    assert r.status_code == 200


async def test_given_a_token_when_signed_out_then_it_stops_working_at_once(
    api: tuple[Services, httpx.AsyncClient, FakeClock],
) -> None:
    _, client, _ = api
    token = (
        await client.post("/api/auth/login", json={"username": "agent01", "password": PASSWORD})
    ).json()["access_token"]
    assert (await client.post("/api/auth/logout", headers=bearer(token))).status_code == 204
    r = await client.get("/api/auth/me", headers=bearer(token))
    assert r.status_code == 401
    assert r.json()["message"] == "the token was signed out: sign in again"
    assert r.headers["WWW-Authenticate"] == "Bearer"


async def test_given_a_token_when_refreshed_then_the_new_one_works_and_the_old_one_not(
    api: tuple[Services, httpx.AsyncClient, FakeClock],
) -> None:
    _, client, clock = api
    old = (
        await client.post("/api/auth/login", json={"username": "agent01", "password": PASSWORD})
    ).json()["access_token"]
    clock.advance(600)
    r = await client.post("/api/auth/refresh", headers=bearer(old))
    new = r.json()
    assert new["expires_at"] == 1_900_000_000 + 600 + 15 * 60
    assert (
        await client.get("/api/auth/me", headers=bearer(new["access_token"]))
    ).status_code == 200
    assert (await client.get("/api/auth/me", headers=bearer(old))).status_code == 401
    clock.advance(15 * 60)
    r = await client.get("/api/auth/me", headers=bearer(new["access_token"]))
    assert (r.status_code, r.json()["message"]) == (401, "the token has expired: sign in again")


async def test_given_sign_ins_then_successes_and_failures_are_in_the_audit_log(
    api: tuple[Services, httpx.AsyncClient, FakeClock],
) -> None:
    services, client, _ = api
    await client.post("/api/auth/login", json={"username": "agent01", "password": "nope"})
    await client.post("/api/auth/login", json={"username": "agent01", "password": PASSWORD})
    async with services.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(AUDIT.c.action, AUDIT.c.actor_name, AUDIT.c.detail).order_by(AUDIT.c.id)
            )
        ).all()
    assert [(r.action, r.actor_name) for r in rows] == [
        ("auth.login_failed", "system"),
        ("auth.login", "agent01"),
    ]
    assert rows[0].detail == {"username": "agent01"}
