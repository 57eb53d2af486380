"""The privacy endpoints × every role: no token 401, a role outside the list 403 with a
message naming the roles, an allowed role gets past the role check. Every route of
privacy/api.py must be in the table."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

from db.models import Role
from hotline.http import create_app
from privacy import api as privacy_api
from tests.harness.http_app import add_user, api_client, api_services, bearer, issuer_for

ADMINS = frozenset({Role.ADMIN})
# Customer 999 does not exist: allowed roles get 404, past the role check.
TABLE: list[tuple[str, str, frozenset[Role], dict[str, Any] | None]] = [
    ("GET", "/api/privacy/customers/{customer_id}/export", ADMINS, None),
    ("POST", "/api/privacy/customers/{customer_id}/erase", ADMINS, {"reason": "PIPL 请求"}),
]


def test_every_route_is_in_the_table() -> None:
    routes = {
        (method, route.path)
        for route in privacy_api.router.routes
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
                url = path.format(customer_id=999)
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
                    if role in allowed and r.status_code != 404:
                        problems.append(f"{method} {path} {role.value}: {r.status_code} {r.text}")
                    if role not in allowed:
                        if r.status_code != 403 or r.json()["error"] != "forbidden":
                            problems.append(f"{method} {path} {role.value}: {r.status_code}")
                        elif "admin" not in r.json()["message"]:
                            problems.append(f"{method} {path}: 403 without the roles named")
    assert not problems, "\n".join(problems)


class _NoPbx:
    """The call-control port without a PBX: the dial is accepted as asked."""

    async def perform(
        self, operation: str, extension: str, actor: Any, args: dict[str, Any]
    ) -> dict[str, Any]:
        return {"call_id": "1", "state": "dialling", "number": args.get("number")}


async def test_click_to_dial_by_phone_index_allows_agents_supervisors_and_admins(
    db_url: str,
) -> None:
    """The dial route privacy changed (a customer's phone by index): QA may not dial."""
    allowed = {Role.AGENT, Role.SUPERVISOR, Role.ADMIN}
    body = {"customer_id": 999, "phone_index": 0}
    async with api_services(db_url) as services:
        users = {
            role: await add_user(services, f"u_{role.value}", role, f"10{i:02d}")
            for i, role in enumerate(Role)
        }
        issuer = issuer_for(services)
        app = create_app(services)
        async with api_client(app) as client:
            app.state.call_control = _NoPbx()
            r = await client.post("/api/agent/call/dial", json=body)
            assert r.status_code == 401
            for role, user in users.items():
                token, _ = issuer.issue(
                    user_id=user.id or 0,
                    username=user.username,
                    display_name=user.display_name,
                    role=role.value,
                    extension=user.extension,
                )
                r = await client.post("/api/agent/call/dial", json=body, headers=bearer(token))
                if role in allowed:
                    assert r.status_code == 404, (role, r.text)  # no customer 999: past roles
                else:
                    assert r.status_code == 403, (role, r.text)
                    assert r.json()["error"] == "forbidden"
