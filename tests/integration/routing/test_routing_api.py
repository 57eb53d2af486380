"""The router's HTTP API (routing/api.py) inside the agent API: who may call what, live
skill changes, call priorities, and 503 where no router runs. The router runs on a fake
PBX here (no Asterisk: nothing is dialled)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from cti.fake_pbx import FakePbx
from db.models import AgentSkill, Role
from hotline.http import create_app
from hotline.services import Services
from routing.service import RoutingService
from tests.harness.http_app import add_user, api_client, api_services, bearer, issuer_for

A, S, Q, D = Role.AGENT, Role.SUPERVISOR, Role.QA, Role.ADMIN


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[tuple[Services, dict[Role, Any]]]:
    async with api_services(db_url) as services:
        users = {
            A: await add_user(services, "agent01", A, "1001"),
            S: await add_user(services, "supervisor", S, "1901"),
            Q: await add_user(services, "qa", Q, "1902"),
            D: await add_user(services, "admin", D),
        }
        agent_id = users[A].id
        assert agent_id is not None
        async with services.sessions() as session:
            session.add(AgentSkill(user_id=agent_id, skill="billing", level=8))
            await session.commit()
        yield services, users


def token(services: Services, user: Any) -> dict[str, str]:
    issued, _ = issuer_for(services).issue(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role.value,
        extension=user.extension,
    )
    return bearer(issued)


async def test_routing_endpoints_by_role_and_live_changes(
    world: tuple[Services, dict[Role, Any]],
) -> None:
    services, users = world
    services.pbx = FakePbx()
    router = RoutingService(services)
    await router.start()
    try:
        app = create_app(services)
        agent_id = users[A].id
        async with api_client(app) as client:
            for role, user in users.items():
                r = await client.get("/api/routing/queues", headers=token(services, user))
                assert r.status_code == 200, (role, r.text)
                r = await client.get("/api/routing/agents", headers=token(services, user))
                assert r.status_code == (200 if role in (S, D) else 403), (role, r.text)
            assert (await client.get("/api/routing/queues")).status_code == 401

            boss = token(services, users[S])
            r = await client.put(
                f"/api/supervisor/agents/{agent_id}/skills",
                headers=boss,
                json={"skills": {"billing": 9, "repair": 4}, "languages": ["zh", "en"]},
            )
            assert r.status_code == 200, r.text
            assert r.json()["skills"] == {"billing": 9, "repair": 4}
            assert router.router.agents[agent_id].skills == {"billing": 9, "repair": 4}
            r = await client.put(
                f"/api/supervisor/agents/{agent_id}/skills",
                headers=boss,
                json={"skills": {"juggling": 5}},
            )
            assert (r.status_code, r.json()["error"]) == (422, "invalid_request")
            r = await client.put(
                "/api/supervisor/agents/999999/skills",
                headers=boss,
                json={"skills": {"billing": 5}},
            )
            assert (r.status_code, r.json()["error"]) == (404, "not_found")

            await router.ctx.run(router.router.enqueue, "c-1", "billing", priority=10)
            r = await client.put(
                "/api/supervisor/calls/c-1/priority", headers=boss, json={"priority": 500}
            )
            assert r.status_code == 200, r.text
            (call,) = (await client.get("/api/routing/calls", headers=boss)).json()
            assert (call["call_id"], call["priority"], call["queue"]) == ("c-1", 500, "billing")
            r = await client.put(
                "/api/supervisor/calls/nope/priority", headers=boss, json={"priority": 1}
            )
            assert r.status_code == 404
            r = await client.get("/api/routing/calls?queue=nope", headers=boss)
            assert r.status_code == 404
        # The new skills are stored: a restarted router loads them.
        async with services.sessions() as session:
            rows = (
                await session.exec(select(AgentSkill).where(AgentSkill.user_id == agent_id))
            ).all()
        assert {r.skill: r.level for r in rows} == {"billing": 9, "repair": 4}
    finally:
        await router.stop()


async def test_without_a_router_in_this_process_the_api_answers_503(
    world: tuple[Services, dict[Role, Any]],
) -> None:
    services, users = world
    async with api_client(create_app(services)) as client:
        r = await client.get("/api/routing/queues", headers=token(services, users[S]))
    assert (r.status_code, r.json()["error"]) == (503, "routing_unavailable")
