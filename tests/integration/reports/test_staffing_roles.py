"""The reports page's routes × every role: the staffing API refuses a missing token
(401) and roles outside supervisor, QA, admin (403 "forbidden", naming the roles); the
page itself is static and public, its API refuses. Every route of reports/staffing_api.py
is in the table."""

from __future__ import annotations

from fastapi.routing import APIRoute

from db.models import Role
from hotline.http import create_app
from reports import staffing_api
from tests.harness.http_app import add_user, api_client, api_services, bearer, issuer_for

S, Q, D = Role.SUPERVISOR, Role.QA, Role.ADMIN
READERS = frozenset({S, Q, D})
TABLE: list[tuple[str, str, frozenset[Role]]] = [
    ("GET", "/api/reports/staffing", READERS),
]


def test_every_route_is_in_the_table() -> None:
    routes = {
        (method, route.path)
        for route in staffing_api.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    assert routes == {(m, p) for m, p, _ in TABLE}


async def test_each_route_allows_its_roles_only_and_the_page_is_served(db_url: str) -> None:
    problems: list[str] = []
    async with api_services(db_url) as services:
        users = {role: await add_user(services, f"u_{role.value}", role) for role in Role}
        issuer = issuer_for(services)
        async with api_client(create_app(services)) as client:
            page = await client.get("/reports/")
            assert page.status_code == 200
            assert 'src="reports.js"' in page.text
            for asset in ("reports.js", "reports-i18n.js", "reports.css"):
                assert (await client.get(f"/reports/{asset}")).status_code == 200
            for method, path, allowed in TABLE:
                r = await client.request(method, path)
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
                    r = await client.request(method, path, headers=bearer(token))
                    if role in allowed and r.status_code != 200:
                        problems.append(f"{method} {path} {role.value}: {r.status_code} {r.text}")
                    if role not in allowed:
                        body = r.json()
                        if r.status_code != 403 or body.get("error") != "forbidden":
                            problems.append(f"{method} {path} {role.value}: {r.status_code}")
                        elif not all(
                            name in body["message"] for name in ("supervisor", "qa", "admin")
                        ):
                            problems.append(f"{method} {path}: message names no roles: {body}")
    assert not problems, "\n".join(problems)
