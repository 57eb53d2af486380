"""An agent disabled by an administrator loses the open desk websocket at once (the
`auth.user_revoked` bus message, desk/push/hub.py), not only their next request. A real
uvicorn on a loopback port, a real websocket client."""

from __future__ import annotations

import httpx
import pytest

from db.models import Role
from hotline.http import create_app
from kernel.clock import FakeClock
from tests.harness.http_app import add_user, api_server, api_services, bearer, desk, login

pytestmark = pytest.mark.integration


@pytest.fixture
def db_backend() -> str:
    return "sqlite"  # the socket's behaviour does not depend on the database


async def test_given_an_agent_on_the_desk_when_disabled_then_the_socket_closes(
    db_url: str,
) -> None:
    clock = FakeClock(1_900_000_000)
    async with api_services(db_url, clock=clock) as services:
        agent = await add_user(services, "agent01", Role.AGENT, "1001")
        await add_user(services, "boss", Role.ADMIN)
        async with (
            api_server(create_app(services)) as base,
            httpx.AsyncClient(base_url=base) as http,
        ):
            token, admin = await login(http, "agent01"), await login(http, "boss")
            async with desk(base, token=token) as d:
                clock.advance(1)
                r = await http.post(f"/api/admin/users/{agent.id}/disable", headers=bearer(admin))
                assert r.status_code == 200, r.text
                assert await d.closed() == (1008, "account disabled or reset")
            async with desk(base, first={"type": "auth", "token": token}) as d:
                assert (await d.closed())[0] == 1008  # the token no longer opens one
