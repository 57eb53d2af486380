"""The supervisor actions API (supervisor/api.py) with the real router on a fake PBX (no
Asterisk: listen/whisper/barge on the real one is tests/integration/supervisor/test_supervisor_spy.py):
every route x every role, force not-ready / sign-out through the router's state machine,
live skills and call priority, the board, the page -- and an audit row for every action,
refused ones included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute

from cti.fake_pbx import FakePbx
from db.models import AgentSkill, Role, metadata
from hotline.http import create_app
from hotline.services import Services
from routing.service import RoutingService
from supervisor import api as supervisor_api
from tests.harness.http_app import add_user, api_client, api_services, bearer, issuer_for

A, S, Q, D = Role.AGENT, Role.SUPERVISOR, Role.QA, Role.ADMIN
STAFF = frozenset({S, D})
AUDIT = metadata.tables["audit_log"]
SID = "hlsp-0123456789abcdef0123"
TABLE: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/supervisor/board", None),
    ("POST", "/api/supervisor/agents/{agent_id}/spy", {"mode": "listen"}),
    ("GET", "/api/supervisor/spy", None),
    ("PUT", "/api/supervisor/spy/{session_id}", {"mode": "barge"}),
    ("DELETE", "/api/supervisor/spy/{session_id}", None),
    ("POST", "/api/supervisor/agents/{agent_id}/not-ready", {"reason": "meeting"}),
    ("POST", "/api/supervisor/agents/{agent_id}/sign-out", None),
    ("PUT", "/api/supervisor/agents/{agent_id}/skills", {"skills": {"billing": 5}}),
    ("PUT", "/api/supervisor/calls/{call_id}/priority", {"priority": 10}),
]


@dataclass
class World:
    services: Services
    router: RoutingService
    users: dict[Role, Any]
    agent2: Any

    def headers(self, role: Role) -> dict[str, str]:
        user = self.users[role]
        token, _ = issuer_for(self.services).issue(
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=role.value,
            extension=user.extension,
        )
        return bearer(token)


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    async with api_services(db_url) as services:
        users = {
            A: await add_user(services, "agent01", A, "1001", display_name="李娜"),
            S: await add_user(services, "boss", S, "1901", display_name="陈主管"),
            Q: await add_user(services, "qa", Q, "1902"),
            D: await add_user(services, "admin", D),
        }
        agent2 = await add_user(services, "agent02", A, "1002", display_name="王芳")
        async with services.sessions() as session:
            for user in (users[A], agent2):
                assert user.id is not None
                session.add(AgentSkill(user_id=user.id, skill="billing", level=8))
            await session.commit()
        services.pbx = FakePbx()
        router = RoutingService(services)
        await router.start()
        try:
            yield World(services, router, users, agent2)
        finally:
            await router.stop()


async def audit_rows(services: Services) -> list[tuple[str, str, str, dict[str, Any]]]:
    async with services.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(AUDIT).where(AUDIT.c.action.startswith("supervisor.")).order_by(AUDIT.c.id)
        )
        return [(r.action, r.actor_name, r.object_id, r.detail) for r in rows]


def test_every_route_is_in_the_table() -> None:
    routes = {
        (method, route.path)
        for route in supervisor_api.router.routes
        if isinstance(route, APIRoute)
        and route.include_in_schema
        and route.endpoint.__module__ == "supervisor.api"  # not the live view's
        for method in route.methods or ()
    }
    assert routes == {(m, p) for m, p, _ in TABLE}


async def test_each_route_allows_supervisors_and_admins_only(world: World) -> None:
    problems: list[str] = []
    params = {"agent_id": world.agent2.id, "session_id": SID, "call_id": "nope"}
    async with api_client(create_app(world.services)) as client:
        for method, path, body in TABLE:
            url = path.format(**params)
            r = await client.request(method, url, json=body)
            if r.status_code != 401 or not r.json().get("message"):
                problems.append(f"{method} {path} without a token: {r.status_code}")
            for role in world.users:
                r = await client.request(method, url, json=body, headers=world.headers(role))
                if role in STAFF and (r.status_code in (401, 403) or r.status_code >= 500):
                    problems.append(f"{method} {path} {role.value}: {r.status_code} {r.text}")
                if role not in STAFF and (r.status_code, r.json()["error"]) != (403, "forbidden"):
                    problems.append(f"{method} {path} {role.value}: {r.status_code}")
                if r.status_code >= 400 and not r.json().get("message"):
                    problems.append(f"{method} {path} {role.value}: no message {r.text}")
    assert not problems, "\n".join(problems)


async def test_force_not_ready_and_sign_out_go_through_the_router_and_are_audited(
    world: World,
) -> None:
    agent_id = world.agent2.id
    await world.router.login(agent_id, ready=True)
    desk = await world.services.bus.subscribe("agent")
    boss = world.headers(S)
    base = f"/api/supervisor/agents/{agent_id}"
    async with api_client(create_app(world.services)) as client:
        r = await client.post(f"{base}/not-ready", headers=boss, json={"reason": "meeting"})
        assert r.status_code == 200, r.text
        assert (r.json()["state"], r.json()["reason"]) == ("not_ready", "meeting")
        assert world.router.agent(agent_id)["state"] == "not_ready"
        # The agent's desktop follows its state on the bus.
        msg = await desk.get(timeout=10)
        assert (msg.data["agent_id"], msg.data["state"]) == (agent_id, "not_ready")

        r = await client.post(f"{base}/not-ready", headers=boss, json={"reason": "nap"})
        assert (r.status_code, r.json()["error"]) == (422, "unknown_reason")
        r = await client.post(f"{base}/not-ready", headers=boss, json={"reason": "午休"})
        assert (r.status_code, r.json()["error"]) == (422, "invalid_request")

        r = await client.post(f"{base}/sign-out", headers=world.headers(D))
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "logged_out"
        assert world.router.agent(agent_id)["state"] == "logged_out"
        r = await client.post(f"{base}/not-ready", headers=boss, json={"reason": "break"})
        assert (r.status_code, r.json()["error"]) == (409, "not_signed_in")
        r = await client.post("/api/supervisor/agents/999999/sign-out", headers=boss)
        assert (r.status_code, r.json()["error"]) == (404, "not_found")
    await desk.close()

    rows = await audit_rows(world.services)
    assert [(a, who, d["outcome"], d.get("error")) for a, who, _, d in rows] == [
        ("supervisor.force_not_ready", "boss", "done", None),
        ("supervisor.force_not_ready", "boss", "refused", "unknown_reason"),
        ("supervisor.force_sign_out", "admin", "done", None),
        ("supervisor.force_not_ready", "boss", "refused", "not_signed_in"),
        ("supervisor.force_sign_out", "boss", "refused", "not_found"),
    ]
    assert rows[0][2] == str(agent_id)
    assert rows[0][3]["reason"] == "meeting"


async def test_skills_and_call_priority_change_live_and_are_audited(world: World) -> None:
    agent_id = world.agent2.id
    boss = world.headers(S)
    async with api_client(create_app(world.services)) as client:
        r = await client.put(
            f"/api/supervisor/agents/{agent_id}/skills",
            headers=boss,
            json={"skills": {"billing": 9, "emergency": 3}, "languages": ["zh", "en"]},
        )
        assert r.status_code == 200, r.text
        assert r.json()["skills"] == {"billing": 9, "emergency": 3}
        assert world.router.router.agents[agent_id].skills == {"billing": 9, "emergency": 3}
        r = await client.put(
            f"/api/supervisor/agents/{agent_id}/skills", headers=boss, json={"skills": {"x": 11}}
        )
        assert r.status_code == 422
        r = await client.put(
            f"/api/supervisor/agents/{agent_id}/skills",
            headers=boss,
            json={"skills": {"juggling": 5}},
        )
        assert (r.status_code, r.json()["error"]) == (422, "invalid_request")

        await world.router.ctx.run(world.router.router.enqueue, "c-1", "billing", priority=10)
        await world.router.ctx.run(world.router.router.enqueue, "c-2", "billing", priority=50)
        r = await client.put(
            "/api/supervisor/calls/c-1/priority", headers=boss, json={"priority": 900}
        )
        assert r.status_code == 200, r.text
        assert (r.json()["call_id"], r.json()["priority"]) == ("c-1", 900)
        # Moved to the head of the line: the next decision takes it first.
        calls = (await client.get("/api/supervisor/board", headers=boss)).json()["calls"]
        assert [c["call_id"] for c in calls] == ["c-1", "c-2"]
        r = await client.put(
            "/api/supervisor/calls/gone/priority", headers=boss, json={"priority": 1}
        )
        assert (r.status_code, r.json()["error"]) == (404, "not_found")

    rows = await audit_rows(world.services)
    assert [(a, obj, d["outcome"]) for a, _, obj, d in rows] == [
        ("supervisor.skills", str(agent_id), "done"),
        ("supervisor.skills", str(agent_id), "refused"),
        ("supervisor.call_priority", "c-1", "done"),
        ("supervisor.call_priority", "gone", "refused"),
    ]
    assert rows[0][3]["before"] == {"skills": {"billing": 8}, "languages": ["zh"]}
    assert rows[0][3]["skills"] == {"billing": 9, "emergency": 3}
    assert (rows[2][3]["before"], rows[2][3]["priority"]) == (10, 900)


async def test_the_board_names_agents_with_state_time_and_caller(world: World) -> None:
    agent_id = world.agent2.id
    await world.router.login(agent_id, ready=True)
    live = world.router.ctx.live.get("c-9")
    live.snapshot = {"caller_number": "13912345678"}
    await world.router.ctx.run(world.router.router.enqueue, "c-9", "billing", priority=10)
    async with api_client(create_app(world.services)) as client:
        r = await client.get("/api/supervisor/board", headers=world.headers(S))
    assert r.status_code == 200, r.text
    data = r.json()
    agents = {a["agent_id"]: a for a in data["agents"]}
    mine = agents[agent_id]
    assert (mine["name"], mine["extension"], mine["username"]) == ("王芳", "1002", "agent02")
    assert mine["state"] == "reserved"  # the router offered it the waiting caller
    assert (mine["linkedid"], mine["caller_number"]) == ("c-9", "13912345678")
    assert mine["seconds_in_state"] >= 0
    assert agents[world.users[A].id]["state"] == "logged_out"
    assert "no_answer" not in data["reasons"]
    assert "meeting" in data["reasons"]
    assert {"name": "billing", "label": {"zh": "账务缴费", "en": "Billing and payments"}} in data[
        "queues"
    ]
    assert {"name": "billing", "label": {"zh": "账务缴费", "en": "Billing and payments"}} in data[
        "skills"
    ]


async def test_the_page_and_its_files_are_served(world: World) -> None:
    async with api_client(create_app(world.services)) as client:
        r = await client.get("/supervisor")
        assert (r.status_code, r.headers["location"]) == (307, "/supervisor/")
        r = await client.get("/supervisor/")
        assert r.status_code == 200
        assert "text/html" in r.headers["content-type"]
        assert "supervisor.js" in r.text
        r = await client.get("/supervisor/supervisor.js")
        assert r.status_code == 200
        assert "javascript" in r.headers["content-type"]
        for bad in ("/supervisor/..%2Fapi.py", "/supervisor/api.py", "/supervisor/nope.js"):
            r = await client.get(bad)
            assert r.status_code == 404, bad


async def test_given_the_old_routing_change_endpoints_then_they_are_gone(world: World) -> None:
    """One way to change skills and priorities: the supervisor's audited actions (the
    routing API's unaudited copies were removed, issue 12)."""
    agent_id = world.agent2.id
    async with api_client(create_app(world.services)) as client:
        r = await client.put(
            f"/api/routing/agents/{agent_id}/skills",
            headers=world.headers(D),
            json={"skills": {"repair": 4}},
        )
        assert r.status_code in (404, 405), r.text
        r = await client.put(
            "/api/routing/calls/c-5/priority", headers=world.headers(S), json={"priority": 77}
        )
        assert r.status_code in (404, 405), r.text
