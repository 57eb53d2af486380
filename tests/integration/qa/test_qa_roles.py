"""Quality-inspection endpoints × every role: no token 401, a role outside the list 403
{"error": "forbidden"} naming the roles, a role inside it gets past the role check. Every
route of qa/api.py must be in the table; the page itself is static (its API refuses)."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

from db.models import Role
from hotline.http import create_app
from qa import api as qa_api
from tests.harness.http_app import add_user, api_client, api_services, bearer, issuer_for

A, S, Q, D = Role.AGENT, Role.SUPERVISOR, Role.QA, Role.ADMIN
ANY, INSPECTORS, RATERS = frozenset(Role), frozenset({Q, S, D}), frozenset({S, D})
ANSWERS = {"greeting": 5}
# Call 999 and agent 999 do not exist: allowed roles get 404 or 422, past the role check.
TABLE: list[tuple[str, str, frozenset[Role], dict[str, Any] | None]] = [
    ("GET", "/api/qa/forms", ANY, None),
    ("GET", "/api/qa/agents", INSPECTORS, None),
    ("GET", "/api/qa/samples", INSPECTORS, None),
    ("POST", "/api/qa/samples/draw", INSPECTORS, {}),
    ("GET", "/api/qa/calls/{call_id}", INSPECTORS, None),
    ("POST", "/api/qa/scores", INSPECTORS, {"call_id": 999, "answers": ANSWERS}),
    ("GET", "/api/qa/scores", INSPECTORS, None),
    ("GET", "/api/qa/my-scores", ANY, None),
    ("POST", "/api/qa/ratings", RATERS, {"agent_id": 999, "period": "2026-12", "score": 3}),
    ("GET", "/api/qa/agents/{agent_id}/ratings", INSPECTORS, None),
    ("GET", "/api/qa/evaluation", ANY, None),
    ("GET", "/api/qa/agents/{agent_id}/evaluation", INSPECTORS, None),
]


def test_every_route_is_in_the_table() -> None:
    routes = {
        (method, route.path)
        for route in qa_api.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    assert routes == {(m, p) for m, p, _, _ in TABLE}


async def test_each_route_allows_its_roles_only(db_url: str) -> None:
    problems: list[str] = []
    async with api_services(db_url) as services:
        users = {role: await add_user(services, f"u_{role.value}", role) for role in Role}
        issuer = issuer_for(services)
        async with api_client(create_app(services)) as client:
            for method, path, allowed, body in TABLE:
                url = path.format(call_id=999, agent_id=999)
                r = await client.request(method, url, json=body)
                if r.status_code != 401:
                    problems.append(f"{method} {path} without a token: {r.status_code}")
                for role, user in users.items():
                    token, _ = issuer.issue(
                        user_id=user.id or 0,
                        username=user.username,
                        display_name=user.display_name,
                        role=role.value,
                        extension=user.extension,
                    )
                    r = await client.request(method, url, json=body, headers=bearer(token))
                    if role in allowed and (r.status_code in (401, 403) or r.status_code >= 500):
                        problems.append(f"{method} {path} {role.value}: {r.status_code} {r.text}")
                    if role not in allowed:
                        named = all(a.value in r.json().get("message", "") for a in allowed)
                        if r.status_code != 403 or r.json()["error"] != "forbidden" or not named:
                            problems.append(
                                f"{method} {path} {role.value}: {r.status_code} {r.text}"
                            )
            page = await client.get("/qa/")
            if page.status_code != 200:
                problems.append(f"GET /qa/: {page.status_code}")
    assert not problems, "\n".join(problems)
