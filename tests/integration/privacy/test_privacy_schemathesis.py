"""Schemathesis over the privacy routes and the routes privacy changed (the customer
file's `reason`, click-to-dial by phone index; real uvicorn, SQLite): no input the
schema allows, or nearly allows, makes the server fail, and every 4xx says what was
wrong ({"error", "message"})."""

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
from tests.harness.http_app import add_call, add_customer, add_user

pytestmark = pytest.mark.integration
USERS: Users = {"agent": (1, "agent01", "1001"), "admin": (2, "admin", None)}


async def seed(services: Services) -> None:
    agent = await add_user(services, "agent01", Role.AGENT, "1001")
    await add_user(services, "admin", Role.ADMIN)
    for i in range(3):
        customer = await add_customer(services, f"客户{i}", f"1390000000{i}")
        await add_call(services, f"190000000{i}.1", customer_id=customer.id, agent_id=agent.id)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve_app(tmp_path_factory.mktemp("privacy-fuzz"), seed)


schema = schemathesis.openapi.from_dict(openapi_document()).include(
    path_regex=r"^/api/(privacy/|customers/\{customer_id\}$|agent/call/dial$)"
)
CHECKS = [st_checks.not_a_server_error, clear_error_message]


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_privacy_as_admin(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=bearer(USERS, "admin"), checks=CHECKS)


@schema.parametrize()
@FEW
def test_privacy_as_agent(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=bearer(USERS, "agent"), checks=CHECKS)
