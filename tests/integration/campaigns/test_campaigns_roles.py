"""Campaign endpoints × every role (tests/harness/roles.py): no token 401, agents and QA
403 {"error": "forbidden"} naming supervisor and admin, supervisors and admins get past
the role check. Every route of campaigns/api.py is in the table; the page is static and
served to anyone (its API refuses)."""

from __future__ import annotations

from campaigns import api as campaigns_api
from db.models import Role
from hotline.http import create_app
from tests.harness.http_app import api_client, api_services
from tests.harness.roles import Route, paths_of, role_matrix, routes_of

MANAGERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
C = "/api/campaigns/{campaign_id}"
FILTER = {"filter": {"district": "滨江区"}}
# Campaign 999 and entry 999 do not exist: allowed roles get 404 or 422, past the check.
TABLE = [
    Route("GET", "/api/campaigns", MANAGERS),
    Route("POST", "/api/campaigns", MANAGERS, {"name": "x", "kind": "message", "script": {}}),
    Route("POST", "/api/campaigns/preview", MANAGERS, FILTER),
    Route("GET", "/api/campaigns/report?first=2026-12-01&last=2026-12-02", MANAGERS),
    Route("GET", C, MANAGERS),
    Route("PATCH", C, MANAGERS, {"name": "y"}),
    Route("POST", C + "/start", MANAGERS),
    Route("POST", C + "/pause", MANAGERS),
    Route("POST", C + "/resume", MANAGERS),
    Route("POST", C + "/stop", MANAGERS),
    Route("POST", C + "/contacts/preview", MANAGERS, FILTER),
    Route("POST", C + "/contacts/filter", MANAGERS, FILTER),
    Route("POST", C + "/contacts/csv", MANAGERS),
    Route("GET", C + "/contacts", MANAGERS),
    Route("GET", C + "/results", MANAGERS),
    Route("GET", C + "/results.csv", MANAGERS),
    Route("GET", "/api/do-not-call", MANAGERS),
    Route("POST", "/api/do-not-call", MANAGERS, {"number": "13900000009"}),
    Route("POST", "/api/do-not-call/{entry_id}/lift", MANAGERS),
]


def test_every_route_is_in_the_table() -> None:
    table = {(m, p.split("?")[0]) for m, p in paths_of(TABLE)}
    assert routes_of(campaigns_api.router) == table


async def test_each_route_allows_its_roles_only(db_url: str) -> None:
    assert await role_matrix(db_url, TABLE, campaign_id=999, entry_id=999) == []


async def test_the_page_is_served(db_url: str) -> None:
    async with api_services(db_url) as services, api_client(create_app(services)) as client:
        page = await client.get("/campaigns/")
        script = await client.get("/campaigns/campaigns.js")
    assert page.status_code == 200
    assert "campaigns.js" in page.text
    assert script.status_code == 200
