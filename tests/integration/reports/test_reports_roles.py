"""Recordings and reports endpoints × every role: no token 401, a role outside the list
403, a role inside it gets past the role check. Every route of recordings/api.py and
reports/api.py must be in the table."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

from db.models import Role
from hotline.http import create_app
from recordings import api as recordings_api
from reports import api as reports_api
from tests.harness.http_app import add_user, api_client, api_services, bearer, issuer_for

A, S, Q, D = Role.AGENT, Role.SUPERVISOR, Role.QA, Role.ADMIN
ANY, READERS, HOLDERS = frozenset(Role), frozenset({S, Q, D}), frozenset({S, D})
# Recording 999 does not exist: allowed roles get 404, past the role check.
TABLE: list[tuple[str, str, frozenset[Role], dict[str, Any] | None]] = [
    ("GET", "/api/recordings/{recording_id}", ANY, None),
    ("GET", "/api/recordings/{recording_id}/audio", ANY, None),
    ("GET", "/api/recordings/{recording_id}/download", ANY, None),
    ("PUT", "/api/recordings/{recording_id}/legal-hold", HOLDERS, {"hold": True}),
    ("GET", "/api/reports", READERS, None),
    ("GET", "/api/reports/chart", READERS, None),
]


def test_every_route_is_in_the_table() -> None:
    routes = {
        (method, route.path)
        for module in (recordings_api, reports_api)
        for route in module.router.routes
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
                url = path.format(recording_id=999)
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
                    if role not in allowed and r.status_code != 403:
                        problems.append(f"{method} {path} {role.value}: {r.status_code}")
    assert not problems, "\n".join(problems)
