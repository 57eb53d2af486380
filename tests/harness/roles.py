"""The role matrix, shared by every feature's role test: each route × no token × every
role. No token (or a token that is not a JWT) answers 401 with a message; a role outside
the route's list 403 {"error": "forbidden"} with a message naming the allowed roles; a
role inside it gets past the check (any answer but 401, 403 or a 5xx).

    TABLE = [Route("GET", "/api/qa/forms", ANY), Route("POST", "/api/qa/scores", QA, body)]

    def test_every_route_is_in_the_table() -> None:
        assert routes_of(qa_api.router) == paths_of(TABLE)

    async def test_each_route_allows_its_roles_only(db_url: str) -> None:
        assert await role_matrix(db_url, TABLE, call_id=999) == []
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import APIRouter
from fastapi.routing import APIRoute

from agent_api.tokens import TokenIssuer
from db.models import Role, User
from hotline.http import create_app
from tests.harness.http_app import add_user, api_client, api_services, bearer, issuer_for

ANY = frozenset(Role)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # the route's template; its {names} are filled from role_matrix's params
    allowed: frozenset[Role]
    body: Any = None  # JSON body
    files: Mapping[str, tuple[str, bytes, str]] | None = None  # multipart instead of JSON

    def request(self, **params: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"method": self.method, "url": self.path.format(**params)}
        if self.files is not None:
            kwargs["files"] = dict(self.files)
        elif self.body is not None:
            kwargs["json"] = self.body
        return kwargs


def routes_of(*routers: APIRouter) -> set[tuple[str, str]]:
    """(method, path) of every route of these routers."""
    return {
        (method, route.path)
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }


def paths_of(table: Iterable[Route]) -> set[tuple[str, str]]:
    return {(r.method, r.path) for r in table}


def token_for(issuer: TokenIssuer, user: User, role: Role, **claims: Any) -> str:
    token, _ = issuer.issue(
        user_id=user.id or 0,
        username=user.username,
        display_name=user.display_name,
        role=role.value,
        extension=user.extension,
        **claims,
    )
    return token


async def route_problems(
    client: httpx.AsyncClient,
    route: Route,
    tokens: Mapping[Role, str],
    **params: Any,
) -> list[str]:
    """What is wrong with one route's answers to no token, a bad token and each role."""
    name = f"{route.method} {route.path}"
    problems: list[str] = []
    request = route.request(**params)
    r = await client.request(**request)
    if r.status_code != 401 or not r.json().get("message"):
        problems.append(f"{name} without a token: {r.status_code} {r.text[:120]}")
    r = await client.request(**request, headers=bearer("not-a-jwt"))
    if r.status_code != 401:
        problems.append(f"{name} with a bad token: {r.status_code}")
    for role, token in tokens.items():
        r = await client.request(**request, headers=bearer(token))
        if role in route.allowed:
            if r.status_code in (401, 403) or r.status_code >= 500:
                problems.append(f"{name} {role.value} allowed: {r.status_code} {r.text[:160]}")
            continue
        body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        if r.status_code != 403 or body.get("error") != "forbidden":
            problems.append(f"{name} {role.value} not allowed: {r.status_code} {r.text[:120]}")
        elif not all(a.value in body.get("message", "") for a in route.allowed):
            problems.append(f"{name} {role.value}: 403 does not name the roles: {r.text}")
    return problems


async def role_matrix(db_url: str, table: Iterable[Route], **params: Any) -> list[str]:
    """Every route of `table` against no token and one user of each role, through the
    served app (hotline/http.py create_app); the list of problems, empty when right."""
    problems: list[str] = []
    async with api_services(db_url) as services:
        issuer = issuer_for(services)
        tokens = {
            role: token_for(issuer, await add_user(services, f"u_{role.value}", role), role)
            for role in Role
        }
        async with api_client(create_app(services)) as client:
            for route in table:
                problems += await route_problems(client, route, tokens, **params)
    return problems
