"""Administration endpoints × every role: no token 401, a role outside the list 403
"forbidden" naming the roles, the allowed roles get past the check. Every route of
admin/api.py is in the table; POST /api/auth/password is for any signed-in user, and a
token that must change its password reaches that route only."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

from admin import api as admin_api
from db.models import Role
from hotline.http import create_app
from tests.harness.http_app import add_user, api_client, api_services, bearer, issuer_for

ADMIN, ANY = frozenset({Role.ADMIN}), frozenset(Role)
DAY, WEEK = {"kind": "holiday"}, {"weekly": {"mon": [["09:00", "18:00"]]}}
# User 999 and the 2026-12-31 entries do not exist: allowed roles get 404, past the check.
TABLE: list[tuple[str, str, frozenset[Role], dict[str, Any] | None]] = [
    ("GET", "/api/admin/options", ADMIN, None),
    ("GET", "/api/admin/users", ADMIN, None),
    ("POST", "/api/admin/users", ADMIN, {"username": "x"}),
    ("GET", "/api/admin/users/{user_id}", ADMIN, None),
    ("PATCH", "/api/admin/users/{user_id}", ADMIN, {}),
    ("POST", "/api/admin/users/{user_id}/disable", ADMIN, None),
    ("POST", "/api/admin/users/{user_id}/enable", ADMIN, None),
    ("POST", "/api/admin/users/{user_id}/password-reset", ADMIN, {}),
    ("GET", "/api/admin/audit", ADMIN, None),
    ("GET", "/api/admin/audit.csv", ADMIN, None),
    ("GET", "/api/admin/calendar", ADMIN, None),
    ("PUT", "/api/admin/calendar/days/{day}", ADMIN, DAY),
    ("DELETE", "/api/admin/calendar/days/{day}", ADMIN, None),
    ("PUT", "/api/admin/calendar/weeks/{valid_from}", ADMIN, WEEK),
    ("DELETE", "/api/admin/calendar/weeks/{valid_from}", ADMIN, None),
    ("GET", "/api/admin/calendar/open", ADMIN, None),
    ("GET", "/api/admin/knowledge", ADMIN, None),
    ("POST", "/api/auth/password", ANY, {"old": "x", "new": "y"}),
]


def _url(path: str) -> str:
    return path.format(user_id=999, day="2099-12-31", valid_from="2099-12-31")


def test_every_route_is_in_the_table() -> None:
    routes = {
        (method, route.path)
        for route in admin_api.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    assert routes | {("POST", "/api/auth/password")} == {(m, p) for m, p, _, _ in TABLE}


async def test_each_route_allows_its_roles_only(db_url: str) -> None:
    problems: list[str] = []
    async with api_services(db_url) as services:
        users = {role: await add_user(services, f"u_{role.value}", role) for role in Role}
        issuer = issuer_for(services)
        async with api_client(create_app(services)) as client:
            for method, path, allowed, body in TABLE:
                url = _url(path)
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
                        if r.status_code != 403 or r.json()["error"] != "forbidden":
                            problems.append(f"{method} {path} {role.value}: {r.status_code}")
                        elif "admin" not in r.json()["message"]:
                            problems.append(f"{method} {path}: 403 names no role: {r.text}")
    assert not problems, "\n".join(problems)


async def test_given_a_token_that_must_change_the_password_then_only_that_route_answers(
    db_url: str,
) -> None:
    async with api_services(db_url) as services:
        boss = await add_user(services, "boss", Role.ADMIN)
        issuer = issuer_for(services)
        token, _ = issuer.issue(
            user_id=boss.id or 0,
            username="boss",
            display_name="boss",
            role="admin",
            extension=None,
            password_change=True,
        )
        async with api_client(create_app(services)) as client:
            for method, path, _, body in TABLE:
                r = await client.request(method, _url(path), json=body, headers=bearer(token))
                if path == "/api/auth/password":
                    assert r.status_code == 422, r.text  # past the check: wrong old password
                else:
                    assert r.status_code == 403, (path, r.text)
                    assert r.json()["error"] == "password_change_required"
