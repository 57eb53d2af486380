"""Every agent API endpoint × every role: no token 401, a role outside the endpoint's
list 403, a role inside it gets through (whatever the business answer). The table is the
access policy; a new endpoint missing from it fails test_every_endpoint_is_in_the_table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute

from agent_api.routes import auth_api
from db.models import Role
from desk.routes import (
    agent_api,
    call_tickets_api,
    calls_api,
    customers_api,
    desk_api,
    knowledge_api,
    phone_api,
)
from hotline.http import create_app
from hotline.services import Services
from kernel.config import load_settings
from tests.harness.http_app import (
    ROOT,
    add_call,
    add_customer,
    add_user,
    api_client,
    api_services,
    bearer,
    issuer_for,
)

A, S, Q, D = Role.AGENT, Role.SUPERVISOR, Role.QA, Role.ADMIN
ANY = frozenset(Role)
DESK = frozenset({A, S})
FILES = frozenset({A, S, D})
HANDLERS = frozenset({A, S, D})
EDITORS = frozenset({S, D})


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # the route's template
    allowed: frozenset[Role]
    query: str = ""
    body: dict[str, Any] | None = None


TICKET = {"category": "inquiry", "subject": "查询电费 / bill question", "description": "来电咨询"}
TABLE = [
    Endpoint("POST", "/api/auth/logout", ANY),
    Endpoint("POST", "/api/auth/refresh", ANY),
    Endpoint("GET", "/api/auth/me", ANY),
    Endpoint("POST", "/api/auth/ws-ticket", ANY),
    # Any signed-in user changes their own password (admin/README.md); wrong old one: 422.
    Endpoint("POST", "/api/auth/password", ANY, body={"old": "x", "new": "y"}),
    Endpoint("GET", "/api/agent/state", DESK),
    Endpoint("POST", "/api/agent/sign-in", DESK, body={"extension": "1001"}),
    Endpoint("POST", "/api/agent/ready", DESK),
    Endpoint("POST", "/api/agent/not-ready", DESK, body={"reason": "break"}),
    Endpoint("POST", "/api/agent/wrap-up", DESK, body={}),
    Endpoint("POST", "/api/agent/sign-out", DESK),
    Endpoint("POST", "/api/agent/phone", DESK, body={"phone": "desk"}),
    Endpoint(
        "POST",
        "/api/agent/campaign-preview",
        DESK,
        body={"call_id": "hlob-cp1x1", "decision": "skip"},
    ),
    Endpoint("GET", "/api/customers", FILES, query="?q=张"),
    Endpoint("GET", "/api/customers/{customer_id}", FILES),
    Endpoint("GET", "/api/customers/{customer_id}/calls", FILES),
    Endpoint(
        "POST", "/api/customers", EDITORS, body={"name": "王芳", "account_number": "1000000042"}
    ),
    Endpoint("PATCH", "/api/customers/{customer_id}", EDITORS, body={"tier": "B"}),
    Endpoint(
        "POST", "/api/customers/{customer_id}/phones", EDITORS, body={"number": "02161234567"}
    ),
    Endpoint("DELETE", "/api/customers/{customer_id}/phones/{number}", EDITORS),
    Endpoint("GET", "/api/calls/live", ANY),
    Endpoint("GET", "/api/calls", ANY),
    Endpoint("GET", "/api/calls/{linkedid}", ANY),
    Endpoint("GET", "/api/calls/{linkedid}/tickets", HANDLERS),
    Endpoint("POST", "/api/calls/{linkedid}/tickets", HANDLERS, body=TICKET),
    Endpoint("PATCH", "/api/calls/{linkedid}/tickets/{ticket_id}", HANDLERS, body={"subject": "x"}),
    Endpoint("GET", "/api/kb/{article_id}", ANY),
    Endpoint("GET", "/api/notices", ANY),
    Endpoint("GET", "/api/desk/config", ANY),
    Endpoint("GET", "/api/phone/config", DESK),
]
PUBLIC = {("POST", "/api/auth/login")}
OWN_ROUTERS = (
    auth_api,
    agent_api,
    customers_api,
    calls_api,
    call_tickets_api,
    knowledge_api,
    desk_api,
    phone_api,
)


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[tuple[Services, dict[Role, Any], dict[str, Any]]]:
    # The browser phone's SIP password (GET /api/phone/config answers 503 without it).
    env = {"HOTLINE_PBX__WEBRTC__PASSWORD": "sip-secret"}
    async with api_services(db_url, env=env) as services:
        users = {
            A: await add_user(services, "agent01", A, "1001"),
            S: await add_user(services, "supervisor", S, "1901"),
            Q: await add_user(services, "qa", Q, "1902"),
            D: await add_user(services, "admin", D),
        }
        customer = await add_customer(services, "张伟", "13912345678", tier="A")
        call = await add_call(
            services, "1700000000.1", customer_id=customer.id, agent_id=users[A].id, agents=["1001"]
        )
        params = {
            "customer_id": customer.id,
            "linkedid": call.linkedid,
            "ticket_id": 999,
            "article_id": 1,
            "number": "13912345678",
        }
        yield services, users, params


def test_every_endpoint_is_in_the_table() -> None:
    # This feature's own routers (other features' routers have their own role tests).
    mine = {
        (method, route.path)
        for module in OWN_ROUTERS
        for route in module.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    assert mine - PUBLIC == {(e.method, e.path) for e in TABLE}


def test_every_own_endpoint_is_in_the_openapi_document() -> None:
    settings = load_settings(ROOT / "config.yaml", env={"HOTLINE_AUTH__DEV_MODE": "true"})
    # Routes only: nothing is started, so the parts that do I/O are never touched.
    services = Services(settings, bus=None, engine=None, sessions=None)  # type: ignore[arg-type]
    paths = create_app(services).openapi()["paths"]
    documented = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    assert {(e.method, e.path) for e in TABLE} | PUBLIC <= documented


@pytest.mark.parametrize("endpoint", TABLE, ids=lambda e: f"{e.method} {e.path}")
async def test_endpoint_allows_its_roles_only(
    endpoint: Endpoint, world: tuple[Services, dict[Role, Any], dict[str, Any]]
) -> None:
    services, users, params = world
    app = create_app(services)
    issuer = issuer_for(services)
    url = endpoint.path.format(**params) + endpoint.query
    problems = []
    async with api_client(app) as client:

        async def call(headers: dict[str, str]) -> Any:
            return await client.request(endpoint.method, url, headers=headers, json=endpoint.body)

        r = await call({})
        if r.status_code != 401 or not r.json().get("message"):
            problems.append(f"no token: {r.status_code} {r.text[:120]}")
        r = await call(bearer("not-a-jwt"))
        if r.status_code != 401:
            problems.append(f"bad token: {r.status_code}")
        for role, user in users.items():
            token, _ = issuer.issue(
                user_id=user.id,
                username=user.username,
                display_name=user.display_name,
                role=role.value,
                extension=user.extension,
            )
            r = await call(bearer(token))
            if role in endpoint.allowed:
                if r.status_code in (401, 403) or r.status_code >= 500:
                    problems.append(f"{role.value} allowed but got {r.status_code} {r.text[:160]}")
            elif r.status_code != 403 or r.json().get("error") != "forbidden":
                problems.append(f"{role.value} not allowed but got {r.status_code} {r.text[:120]}")
            elif "roles" not in r.json()["message"]:
                problems.append(f"{role.value}: 403 without a clear message: {r.text}")
    assert not problems, "\n".join(problems)
