"""Quality-inspection endpoints × every role (tests/harness/roles.py): no token 401, a
role outside the list 403 {"error": "forbidden"} naming the roles, a role inside it gets
past the role check. Every route of qa/api.py must be in the table; the page itself is
static (its API refuses)."""

from __future__ import annotations

from db.models import Role
from hotline.http import create_app
from qa import api as qa_api
from tests.harness.http_app import api_client, api_services
from tests.harness.roles import ANY, Route, paths_of, role_matrix, routes_of

S, Q, D = Role.SUPERVISOR, Role.QA, Role.ADMIN
INSPECTORS, RATERS = frozenset({Q, S, D}), frozenset({S, D})
ANSWERS = {"greeting": 5}
# Call 999 and agent 999 do not exist: allowed roles get 404 or 422, past the role check.
TABLE = [
    Route("GET", "/api/qa/forms", ANY),
    Route("GET", "/api/qa/agents", INSPECTORS),
    Route("GET", "/api/qa/samples", INSPECTORS),
    Route("POST", "/api/qa/samples/draw", INSPECTORS, {}),
    Route("GET", "/api/qa/calls/{call_id}", INSPECTORS),
    Route("POST", "/api/qa/scores", INSPECTORS, {"call_id": 999, "answers": ANSWERS}),
    Route("GET", "/api/qa/scores", INSPECTORS),
    Route("GET", "/api/qa/my-scores", ANY),
    Route("POST", "/api/qa/ratings", RATERS, {"agent_id": 999, "period": "2026-12", "score": 3}),
    Route("GET", "/api/qa/agents/{agent_id}/ratings", INSPECTORS),
    Route("GET", "/api/qa/evaluation", ANY),
    Route("GET", "/api/qa/agents/{agent_id}/evaluation", INSPECTORS),
]


def test_every_route_is_in_the_table() -> None:
    assert routes_of(qa_api.router) == paths_of(TABLE)


async def test_each_route_allows_its_roles_only(db_url: str) -> None:
    assert await role_matrix(db_url, TABLE, call_id=999, agent_id=999) == []


async def test_the_page_is_served(db_url: str) -> None:
    async with api_services(db_url) as services, api_client(create_app(services)) as client:
        page = await client.get("/qa/")
    assert page.status_code == 200
