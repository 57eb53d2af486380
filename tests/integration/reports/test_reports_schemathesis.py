"""Schemathesis over the recordings and reports routes (real uvicorn, SQLite): no input
the schema allows, or nearly allows, makes the server fail, and every 4xx says what was
wrong ({"error", "message"})."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks

from db.models import Role, metadata
from hotline.services import Services
from tests.harness.fuzz import (
    FEW,
    Prepare,
    Users,
    bearer,
    clear_error_message,
    openapi_document,
    serve_app,
)
from tests.harness.http_app import add_call, add_user

pytestmark = pytest.mark.integration
AUDIO = b"RIFF" + bytes(2000)
USERS: Users = {"agent": (1, "agent01", "1001"), "admin": (2, "admin", None)}


def _seed_into(root: Path) -> Prepare:
    async def seed(services: Services) -> None:
        agent = await add_user(services, "agent01", Role.AGENT, "1001")
        await add_user(services, "admin", Role.ADMIN)
        call = await add_call(services, "1900000000.1", agent_id=agent.id)
        now = dt.datetime.now(dt.UTC)
        async with services.engine.begin() as conn:
            await conn.execute(
                sa.insert(metadata.tables["recordings"]).values(
                    id=1,
                    call_id=call.id,
                    linkedid=call.linkedid,
                    agent_id=agent.id,
                    path="r/1.wav",
                    state="completed",
                    started_at=now,
                    ended_at=now,
                    size_bytes=len(AUDIO),
                    sha256=hashlib.sha256(AUDIO).hexdigest(),
                    created_at=now,
                )
            )
        (root / "r").mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread((root / "r" / "1.wav").write_bytes, AUDIO)

    return seed


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("reports-fuzz")
    env = {"HOTLINE_RECORDING__ROOT": str(work / "recordings")}
    yield from serve_app(work, _seed_into(work / "recordings"), env)


schema = schemathesis.openapi.from_dict(openapi_document()).include(
    path_regex=r"^/api/(recordings|reports)(/|$)"
)
CHECKS = [st_checks.not_a_server_error, clear_error_message]


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_reports_and_recordings_as_admin(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=bearer(USERS, "admin"), checks=CHECKS)


@schema.parametrize()
@FEW
def test_reports_and_recordings_as_agent(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=bearer(USERS, "agent"), checks=CHECKS)
