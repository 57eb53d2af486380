"""The privacy endpoints × every role: no token 401, a role outside the list 403 with a
message naming the roles, an allowed role gets past the role check. Every route of
privacy/api.py must be in the table."""

from __future__ import annotations

from typing import Any

from db.models import Role
from hotline.http import create_app
from privacy import api as privacy_api
from tests.harness.http_app import add_user, api_client, api_services, bearer, issuer_for
from tests.harness.roles import Route, paths_of, role_matrix, routes_of, token_for

ADMINS = frozenset({Role.ADMIN})
# Customer 999 does not exist: allowed roles get 404, past the role check.
TABLE = [
    Route("GET", "/api/privacy/customers/{customer_id}/export", ADMINS),
    Route("POST", "/api/privacy/customers/{customer_id}/erase", ADMINS, {"reason": "PIPL 请求"}),
]


def test_every_route_is_in_the_table() -> None:
    # privacy/pin_api.py has its own table (test_privacy_pin.py)
    assert routes_of(privacy_api.router) == paths_of(TABLE)


async def test_each_route_allows_its_roles_only(db_url: str) -> None:
    assert await role_matrix(db_url, TABLE, customer_id=999) == []


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
                token = token_for(issuer, user, role)
                r = await client.post("/api/agent/call/dial", json=body, headers=bearer(token))
                if role in allowed:
                    assert r.status_code == 404, (role, r.text)  # no customer 999: past roles
                else:
                    assert r.status_code == 403, (role, r.text)
                    assert r.json()["error"] == "forbidden"
