"""Workbench endpoints × every role: no token 401; every role gets past the role check,
as for the tickets API it works with (tickets/api.py: any signed-in user; department
clerks are agents with a department). Every route of tickets/workbench_api.py must be in
the table, and the page itself is static (its API refuses)."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

from db.models import Role
from hotline.http import create_app
from tests.harness.http_app import add_user, api_client, api_services, bearer, issuer_for
from tickets import workbench_api

ANY = frozenset(Role)
# Ticket 999 and attachment 999 do not exist: allowed roles get 404 (or 200 for lists).
TABLE: list[tuple[str, str, frozenset[Role], dict[str, Any] | None]] = [
    ("GET", "/api/workbench/context", ANY, None),
    ("GET", "/api/workbench/tickets", ANY, None),
    ("GET", "/api/workbench/tickets/{ticket_id}", ANY, None),
    ("GET", "/api/workbench/tickets/{ticket_id}/attachments", ANY, None),
    ("POST", "/api/workbench/tickets/{ticket_id}/attachments", ANY, {"file": b"%PDF-1.4"}),
    ("GET", "/api/workbench/attachments/{attachment_id}", ANY, None),
]


def test_every_route_is_in_the_table() -> None:
    routes = {
        (method, route.path)
        for route in workbench_api.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    assert routes == {(m, p) for m, p, _, _ in TABLE}


def test_every_route_allows_what_the_tickets_api_allows() -> None:
    """Same policy as tickets/api.py: any signed-in user (no role dependency)."""
    for route in workbench_api.router.routes:
        assert isinstance(route, APIRoute)
        checks = [d.call for d in route.dependant.dependencies]
        assert not [c for c in checks if hasattr(c, "allowed_roles")], route.path


async def test_each_route_refuses_no_token_and_lets_every_role_through(db_url: str) -> None:
    problems: list[str] = []
    async with api_services(db_url) as services:
        users = {role: await add_user(services, f"u_{role.value}", role) for role in Role}
        issuer = issuer_for(services)
        async with api_client(create_app(services)) as client:
            for method, path, allowed, files in TABLE:
                url = path.format(ticket_id=999, attachment_id=999)
                kwargs: dict[str, Any] = {}
                if files:
                    kwargs["files"] = {k: ("x.pdf", v, "application/pdf") for k, v in files.items()}
                r = await client.request(method, url, **kwargs)
                if r.status_code != 401:
                    problems.append(f"{method} {path} without a token: {r.status_code}")
                elif r.json().get("error") != "unauthenticated":
                    problems.append(f"{method} {path} without a token: {r.text}")
                for role, user in users.items():
                    token, _ = issuer.issue(
                        user_id=user.id or 0,
                        username=user.username,
                        display_name=user.display_name,
                        role=role.value,
                        extension=user.extension,
                    )
                    r = await client.request(method, url, headers=bearer(token), **kwargs)
                    if role in allowed and (r.status_code in (401, 403) or r.status_code >= 500):
                        problems.append(f"{method} {path} {role.value}: {r.status_code} {r.text}")
                    if role not in allowed and r.status_code != 403:
                        problems.append(f"{method} {path} {role.value}: {r.status_code}")
            page = await client.get("/tickets/")
            if page.status_code != 200 or "workbench.js" not in page.text:
                problems.append(f"/tickets/ page: {page.status_code}")
    assert not problems, "\n".join(problems)
