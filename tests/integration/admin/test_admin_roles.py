"""Administration endpoints × every role: no token 401, a role outside the list 403
"forbidden" naming the roles, the allowed roles get past the check. Every route of
admin/api.py is in the table; POST /api/auth/password is for any signed-in user, and a
token that must change its password reaches that route only."""

from __future__ import annotations

from admin import api as admin_api
from db.models import Role
from hotline.http import create_app
from tests.harness.http_app import add_user, api_client, api_services, bearer, issuer_for
from tests.harness.roles import ANY, Route, paths_of, role_matrix, routes_of

ADMIN = frozenset({Role.ADMIN})
DAY, WEEK = {"kind": "holiday"}, {"weekly": {"mon": [["09:00", "18:00"]]}}
# User 999 and the 2099-12-31 entries do not exist: allowed roles get 404, past the check.
PARAMS = {"user_id": 999, "day": "2099-12-31", "valid_from": "2099-12-31"}
TABLE = [
    Route("GET", "/api/admin/options", ADMIN),
    Route("GET", "/api/admin/users", ADMIN),
    Route("POST", "/api/admin/users", ADMIN, {"username": "x"}),
    Route("GET", "/api/admin/users/{user_id}", ADMIN),
    Route("PATCH", "/api/admin/users/{user_id}", ADMIN, {}),
    Route("POST", "/api/admin/users/{user_id}/disable", ADMIN),
    Route("POST", "/api/admin/users/{user_id}/enable", ADMIN),
    Route("POST", "/api/admin/users/{user_id}/password-reset", ADMIN, {}),
    Route("GET", "/api/admin/audit", ADMIN),
    Route("GET", "/api/admin/audit.csv", ADMIN),
    Route("GET", "/api/admin/calendar", ADMIN),
    Route("PUT", "/api/admin/calendar/days/{day}", ADMIN, DAY),
    Route("DELETE", "/api/admin/calendar/days/{day}", ADMIN),
    Route("PUT", "/api/admin/calendar/weeks/{valid_from}", ADMIN, WEEK),
    Route("DELETE", "/api/admin/calendar/weeks/{valid_from}", ADMIN),
    Route("GET", "/api/admin/calendar/open", ADMIN),
    Route("GET", "/api/admin/knowledge", ADMIN),
    Route("POST", "/api/auth/password", ANY, {"old": "x", "new": "y"}),
]


def test_every_route_is_in_the_table() -> None:
    assert routes_of(admin_api.router) | {("POST", "/api/auth/password")} == paths_of(TABLE)


async def test_each_route_allows_its_roles_only(db_url: str) -> None:
    assert await role_matrix(db_url, TABLE, **PARAMS) == []


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
            for route in TABLE:
                r = await client.request(**route.request(**PARAMS), headers=bearer(token))
                if route.path == "/api/auth/password":
                    assert r.status_code == 422, r.text  # past the check: wrong old password
                else:
                    assert r.status_code == 403, (route.path, r.text)
                    assert r.json()["error"] == "password_change_required"
