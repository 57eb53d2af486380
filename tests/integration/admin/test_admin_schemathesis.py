"""Schemathesis over the administration routes and POST /api/auth/password (real uvicorn,
SQLite): no input the schema allows, or nearly allows, makes the server fail, and every
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

pytestmark = pytest.mark.integration
USERS: Users = {"admin": (1, "admin", None), "agent": (2, "agent01", "1001")}


async def _seed(services: Services) -> None:
    await add_user(services, "admin", Role.ADMIN)
    await add_user(services, "agent01", Role.AGENT, "1001")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve_app(tmp_path_factory.mktemp("admin-fuzz"), _seed)


schema = schemathesis.openapi.from_dict(openapi_document()).include(
    path_regex=r"^/api/(admin/|auth/password$)"
)
CHECKS = [st_checks.not_a_server_error, clear_error_message]


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_admin_api_as_admin(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=bearer(USERS, "admin"), checks=CHECKS)


@schema.parametrize()
@FEW
def test_admin_api_as_agent(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=bearer(USERS, "agent"), checks=CHECKS)
