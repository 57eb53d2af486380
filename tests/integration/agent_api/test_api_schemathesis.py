"""Schemathesis over the agent API's OpenAPI document, against a real uvicorn: no input
the schema allows (or nearly allows) makes the server fail (5xx), responses match the
document, and every 4xx says what was wrong ({"error", "message"} with a sentence)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks

from db.models import Disposition, Role
from devtools.seed.content import kb_articles, notices
from hotline.services import Services
from tests.harness.fuzz import (
    FUZZ,
    Users,
    bearer,
    clear_error_message,
    openapi_document,
    serve_app,
)
from tests.harness.http_app import add_call, add_customer, add_user

pytestmark = pytest.mark.integration
USERS: Users = {"agent": (1, "agent01", "1001"), "admin": (2, "admin", None)}


async def _seed(services: Services) -> None:
    agent = await add_user(services, "agent01", Role.AGENT, "1001")
    await add_user(services, "admin", Role.ADMIN)
    customer = await add_customer(services, "张伟", "13912345678", tier="A")
    await add_call(services, "1900000000.1", customer_id=customer.id, agent_id=agent.id)
    await add_call(services, "1900000000.2", disposition=Disposition.IN_PROGRESS)
    from db.models import KbArticle, Notice
    from kernel.audit import AUDIT  # noqa: F401  (tables registered)

    now = dt.datetime.now(dt.UTC)
    async with services.sessions() as s:
        conn = await s.connection()
        await conn.execute(KbArticle.__table__.insert(), kb_articles(now))  # type: ignore[attr-defined]
        await conn.execute(Notice.__table__.insert(), notices(1, now))  # type: ignore[attr-defined]
        await s.commit()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve_app(tmp_path_factory.mktemp("schemathesis"), _seed)


# This feature's operations (other features' routers are mounted too, and fuzzed by them).
schema = schemathesis.openapi.from_dict(openapi_document()).include(
    path_regex=r"^/api/(auth|agent|customers|calls|kb|notices|desk)(/|$)"
)
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    clear_error_message,
]


@schema.parametrize()
@FUZZ
def test_api_as_admin(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=bearer(USERS, "admin"), checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_api_as_agent(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=bearer(USERS, "agent"), checks=CHECKS)


@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_without_a_token(case: Any, base_url: str) -> None:
    response = case.call(base_url=base_url)
    if case.path != "/api/auth/login":
        # 401; 405 for the unsupported-method probes; 400/422 when the input is refused first
        assert response.status_code in (400, 401, 405, 422), response.text
    assert response.status_code < 500, response.text
    clear_error_message(None, response, case)
