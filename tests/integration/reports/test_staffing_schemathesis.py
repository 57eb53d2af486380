"""Schemathesis over GET /api/reports/staffing (real uvicorn, SQLite, a few calls in the
history): no input the schema allows, or nearly allows, makes the server fail, and every
4xx says what was wrong ({"error", "message"})."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks

from db.models import Role
from hotline.services import Services
from tests.harness.fuzz import (
    FEW,
    Cleanup,
    Users,
    bearer,
    clear_error_message,
    openapi_document,
    serve_app,
)
from tests.harness.http_app import add_user
from tests.integration.reports.test_staffing_api import call_row, insert_calls

pytestmark = pytest.mark.integration
USERS: Users = {"agent": (1, "agent01", "1001"), "supervisor": (2, "boss", None)}


async def seed(services: Services) -> Cleanup | None:
    await add_user(services, "agent01", Role.AGENT, "1001")
    await add_user(services, "boss", Role.SUPERVISOR)
    today = dt.datetime.now(dt.UTC)
    await insert_calls(
        services, [call_row("repair", today - dt.timedelta(days=d, hours=1)) for d in range(20)]
    )
    return None


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve_app(tmp_path_factory.mktemp("staffing-fuzz"), seed)


schema = schemathesis.openapi.from_dict(openapi_document()).include(
    path_regex=r"^/api/reports/staffing$"
)
CHECKS = [st_checks.not_a_server_error, clear_error_message]


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_staffing_as_supervisor(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=bearer(USERS, "supervisor"), checks=CHECKS)


@schema.parametrize()
@FEW
def test_staffing_as_agent(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=bearer(USERS, "agent"), checks=CHECKS)
