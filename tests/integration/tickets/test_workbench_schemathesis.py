"""Schemathesis over the workbench API (real uvicorn, SQLite, at-rest key set): no input
the schema allows, or nearly allows (multipart uploads included), makes the server fail,
and every 4xx says what was wrong ({"error", "message"})."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks

from db.models import Role, User
from hotline.services import Services
from kernel.at_rest import KEY_ENV, AtRest, new_key
from kernel.audit import Actor
from tests.harness.fuzz import (
    FEW,
    Prepare,
    Users,
    bearer,
    clear_error_message,
    openapi_document,
    serve_app,
)
from tests.harness.http_app import add_customer, add_user
from tests.unit.tickets.test_attachment_files import tiny_jpeg
from tickets.attachments import AttachmentService
from tickets.records import TicketDraft
from tickets.service import TicketService

pytestmark = pytest.mark.integration
USERS: Users = {"agent": (1, "repair01", None), "admin": (2, "admin", None)}


def _seed() -> Prepare:
    async def seed(services: Services) -> None:
        clerk = await add_user(services, "repair01", Role.AGENT)
        await add_user(services, "admin", Role.ADMIN)
        async with services.sessions() as s:
            row = await s.get(User, clerk.id)
            assert row is not None
            row.department = "repair_crew"
            s.add(row)
            await s.commit()
        customer = await add_customer(services, "张三", "13912345678")
        actor = Actor(clerk.id, "repair01", "agent")
        tickets = TicketService(services)
        created = await tickets.create(
            TicketDraft(category="repair", subject="燃气表漏气", customer_id=customer.id), actor
        )
        assert created.ticket.id == 1
        store = AttachmentService(services, tickets, AtRest.from_env())
        await store.add(1, "meter.jpg", tiny_jpeg(), actor)

    return seed


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("workbench-fuzz")
    env = {"HOTLINE_ATTACHMENTS__ROOT": str(work / "attachments")}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(KEY_ENV, new_key())
        yield from serve_app(work, _seed(), env)


schema = schemathesis.openapi.from_dict(openapi_document()).include(
    path_regex=r"^/api/workbench(/|$)"
)
CHECKS = [st_checks.not_a_server_error, clear_error_message]


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_workbench_as_admin(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=bearer(USERS, "admin"), checks=CHECKS)


@schema.parametrize()
@FEW
def test_workbench_as_department_clerk(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=bearer(USERS, "agent"), checks=CHECKS)
