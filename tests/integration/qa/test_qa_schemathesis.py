"""Schemathesis over the quality-inspection routes (real uvicorn, SQLite, a recorded call
to score): no input the schema allows, or nearly allows, makes the server fail, and every
4xx says what was wrong ({"error", "message"})."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks

from db.models import Role
from hotline.services import Services
from tests.harness.fuzz import FEW, Users, bearer, clear_error_message, openapi_document, serve_app
from tests.harness.http_app import add_user
from tests.integration.qa.support import recorded_call

pytestmark = pytest.mark.integration
USERS: Users = {
    "agent": (1, "agent01", "1001"),
    "qa": (2, "qa01", None),
    "supervisor": (3, "boss", "1901"),
}


async def _seed(services: Services) -> None:
    agent = await add_user(services, "agent01", Role.AGENT, "1001")
    await add_user(services, "qa01", Role.QA)
    await add_user(services, "boss", Role.SUPERVISOR, "1901")
    await recorded_call(services, "1700000400.1", agent.id or 0)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("qa-fuzz")
    env = {"HOTLINE_RECORDING__ROOT": str(work / "recordings")}
    yield from serve_app(work, _seed, env)


schema = schemathesis.openapi.from_dict(openapi_document()).include(path_regex=r"^/api/qa/")
CHECKS = [st_checks.not_a_server_error, clear_error_message]


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_qa_api_as_supervisor(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=bearer(USERS, "supervisor"), checks=CHECKS)


@schema.parametrize()
@FEW
def test_qa_api_as_inspector(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=bearer(USERS, "qa"), checks=CHECKS)


@schema.parametrize()
@FEW
def test_qa_api_as_agent(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=bearer(USERS, "agent"), checks=CHECKS)
