"""Schemathesis over the supervisor routes (real uvicorn, SQLite, the real router on a fake
PBX): no input the schema allows, or nearly allows, makes the server fail; responses
match the document; every 4xx says what was wrong ({"error", "message"})."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis import checks as st_checks

from cti.fake_pbx import FakePbx
from db.models import AgentSkill, Role
from hotline.services import Services
from routing.service import RoutingService
from tests.harness.fuzz import (
    FEW,
    FUZZ,
    Cleanup,
    Users,
    bearer,
    clear_error_message,
    openapi_document,
    serve_app,
)
from tests.harness.http_app import add_user

pytestmark = pytest.mark.integration
USERS: Users = {
    "agent": (1, "agent01", "1001"),
    "supervisor": (2, "boss", "1901"),
    "admin": (3, "admin", None),
}


async def _seed(services: Services) -> Cleanup:
    agent = await add_user(services, "agent01", Role.AGENT, "1001")
    await add_user(services, "boss", Role.SUPERVISOR, "1901")
    await add_user(services, "admin", Role.ADMIN)
    assert agent.id is not None
    async with services.sessions() as session:
        session.add(AgentSkill(user_id=agent.id, skill="billing", level=5))
        await session.commit()
    services.pbx = FakePbx()
    router = RoutingService(services)
    await router.start()
    await router.login(agent.id, ready=True)
    return router.stop


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve_app(tmp_path_factory.mktemp("supervisor-fuzz"), _seed)


schema = schemathesis.openapi.from_dict(openapi_document()).include(path_regex=r"^/api/supervisor/")
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    clear_error_message,
]


@schema.parametrize()
@FUZZ
def test_supervisor_routes_as_supervisor(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=bearer(USERS, "supervisor"), checks=CHECKS)


@schema.parametrize()
@FEW
def test_supervisor_routes_as_admin_and_agent(case: Any, base_url: str) -> None:
    for role in ("admin", "agent"):
        case.call_and_validate(base_url=base_url, headers=bearer(USERS, role), checks=CHECKS)
