"""Schemathesis over the campaigns routes (real uvicorn, SQLite, a campaign with
contacts and a do-not-call entry): no input the schema allows, or nearly allows, makes the
server fail, and every 4xx says what was wrong ({"error", "message"})."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks

from campaigns.schemas import CampaignIn, CustomerFilter
from campaigns.service import CampaignService
from db.models import Role
from hotline.services import Services
from kernel.audit import Actor
from tests.harness.fuzz import FEW, Users, bearer, clear_error_message, openapi_document, serve_app
from tests.harness.http_app import add_customer, add_user

pytestmark = pytest.mark.integration
USERS: Users = {
    "agent": (1, "agent01", "1001"),
    "supervisor": (2, "boss", "1901"),
}


async def _seed(services: Services) -> None:
    await add_user(services, "agent01", Role.AGENT, "1001")
    boss = await add_user(services, "boss", Role.SUPERVISOR, "1901")
    await add_customer(services, "王芳", "13900000001", account="1001", arrears="128.50")
    await add_customer(services, "李强", "13900000002", account="1002", arrears="30.00")
    service = CampaignService(services)
    actor = Actor(boss.id, "boss", "supervisor")
    body = CampaignIn.model_validate(
        {"name": "欠费提醒", "kind": "message", "script": {"text": "{name}您好"}}
    )
    campaign = await service.create(actor, body)
    await service.add_from_filter(actor, campaign["id"], CustomerFilter(district="滨江区"))
    await service.dnc_add(actor, "13900000009", "客户要求")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve_app(tmp_path_factory.mktemp("campaigns-fuzz"), _seed)


schema = schemathesis.openapi.from_dict(openapi_document()).include(
    path_regex=r"^/api/(campaigns|do-not-call)"
)
CHECKS = [st_checks.not_a_server_error, clear_error_message]


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_campaigns_api_as_supervisor(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=bearer(USERS, "supervisor"), checks=CHECKS)


@schema.parametrize()
@FEW
def test_campaigns_api_as_agent(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=bearer(USERS, "agent"), checks=CHECKS)
