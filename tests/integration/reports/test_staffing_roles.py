"""The reports page's routes × every role: the staffing API refuses a missing token
(401) and roles outside supervisor, QA, admin (403 "forbidden", naming the roles); the
page itself is static and public, its API refuses. Every route of reports/staffing_api.py
is in the table."""

from __future__ import annotations

from db.models import Role
from hotline.http import create_app
from reports import staffing_api
from tests.harness.http_app import api_client, api_services
from tests.harness.roles import Route, paths_of, role_matrix, routes_of

READERS = frozenset({Role.SUPERVISOR, Role.QA, Role.ADMIN})
TABLE = [Route("GET", "/api/reports/staffing", READERS)]


def test_every_route_is_in_the_table() -> None:
    assert routes_of(staffing_api.router) == paths_of(TABLE)


async def test_each_route_allows_its_roles_only(db_url: str) -> None:
    assert await role_matrix(db_url, TABLE) == []


async def test_the_page_and_its_assets_are_served(db_url: str) -> None:
    async with api_services(db_url) as services, api_client(create_app(services)) as client:
        page = await client.get("/reports/")
        assert page.status_code == 200
        assert 'src="reports.js"' in page.text
        for asset in ("reports.js", "reports-i18n.js", "reports.css"):
            assert (await client.get(f"/reports/{asset}")).status_code == 200
