"""Workbench endpoints × every role: no token 401; every role gets past the role check,
as for the tickets API it works with (tickets/api.py: any signed-in user; department
clerks are agents with a department). Every route of tickets/workbench_api.py must be in
the table, and the page itself is static (its API refuses)."""

from __future__ import annotations

from fastapi.routing import APIRoute

from hotline.http import create_app
from tests.harness.http_app import api_client, api_services
from tests.harness.roles import ANY, Route, paths_of, role_matrix, routes_of
from tickets import workbench_api

PDF = {"file": ("x.pdf", b"%PDF-1.4", "application/pdf")}
# Ticket 999 and attachment 999 do not exist: allowed roles get 404 (or 200 for lists).
TABLE = [
    Route("GET", "/api/workbench/context", ANY),
    Route("GET", "/api/workbench/tickets", ANY),
    Route("GET", "/api/workbench/tickets/{ticket_id}", ANY),
    Route("GET", "/api/workbench/tickets/{ticket_id}/attachments", ANY),
    Route("POST", "/api/workbench/tickets/{ticket_id}/attachments", ANY, files=PDF),
    Route("GET", "/api/workbench/attachments/{attachment_id}", ANY),
]


def test_every_route_is_in_the_table() -> None:
    assert routes_of(workbench_api.router) == paths_of(TABLE)


def test_every_route_allows_what_the_tickets_api_allows() -> None:
    """Same policy as tickets/api.py: any signed-in user (no role dependency)."""
    for route in workbench_api.router.routes:
        assert isinstance(route, APIRoute)
        checks = [d.call for d in route.dependant.dependencies]
        assert not [c for c in checks if hasattr(c, "allowed_roles")], route.path


async def test_each_route_refuses_no_token_and_lets_every_role_through(db_url: str) -> None:
    assert await role_matrix(db_url, TABLE, ticket_id=999, attachment_id=999) == []


async def test_the_page_is_served(db_url: str) -> None:
    async with api_services(db_url) as services, api_client(create_app(services)) as client:
        page = await client.get("/tickets/")
    assert page.status_code == 200
    assert "workbench.js" in page.text
