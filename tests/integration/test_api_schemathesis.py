"""Schemathesis over the agent API's OpenAPI document, against a real uvicorn: no input
the schema allows (or nearly allows) makes the server fail (5xx), responses match the
document, and every 4xx says what was wrong ({"error", "message"} with a sentence)."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks

from agent_api.app import create_app
from agent_api.tokens import TokenIssuer
from db.migrate import upgrade
from db.models import Disposition, Role
from hotline.clock import SystemClock
from hotline.config import load_settings
from hotline.devservices.net import free_port, wait_for_port
from hotline.seed.content import kb_articles, notices
from hotline.services import Services
from tests.integration.api_support import (
    ROOT,
    add_call,
    add_customer,
    add_user,
    api_services,
)

pytestmark = pytest.mark.integration
SECRET = secrets.token_hex(32)


class ServerThread:
    """uvicorn + the app + a seeded SQLite database, in a thread with its own loop (the
    schemathesis test itself is synchronous)."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.port = free_port()
        self.server: uvicorn.Server | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="api-under-test", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by start()
            self.error = exc

    async def _main(self) -> None:
        env = {"HOTLINE_AUTH__SECRET_KEY": SECRET}
        async with api_services(self.db_url, clock=SystemClock(), env=env) as services:
            agent = await add_user(services, "agent01", Role.AGENT, "1001")
            await add_user(services, "admin", Role.ADMIN)
            customer = await add_customer(services, "张伟", "13912345678", tier="A")
            await add_call(services, "1900000000.1", customer_id=customer.id, agent_id=agent.id)
            await add_call(services, "1900000000.2", disposition=Disposition.IN_PROGRESS)
            from agent_api.audit import AUDIT  # noqa: F401  (tables registered)
            from db.models import KbArticle, Notice

            now = dt.datetime.now(dt.UTC)
            async with services.sessions() as s:
                conn = await s.connection()
                await conn.execute(KbArticle.__table__.insert(), kb_articles(now))  # type: ignore[attr-defined]
                await conn.execute(Notice.__table__.insert(), notices(1, now))  # type: ignore[attr-defined]
                await s.commit()
            config = uvicorn.Config(
                create_app(services),
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                ws="websockets-sansio",
            )
            self.server = uvicorn.Server(config)
            await self.server.serve()

    def start(self) -> str:
        self.thread.start()
        wait_for_port("127.0.0.1", self.port, timeout=30)
        if self.error is not None:
            raise self.error
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = Path(tmp_path_factory.mktemp("schemathesis")) / "hotline.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    server = ServerThread(url)
    try:
        yield server.start()
    finally:
        server.stop()


def _document() -> dict[str, Any]:
    """The OpenAPI document, from an app built without starting anything (no I/O)."""
    settings = load_settings(ROOT / "config.yaml", env={"HOTLINE_AUTH__DEV_MODE": "true"})
    services = Services(settings, bus=None, engine=None, sessions=None)  # type: ignore[arg-type]
    document: dict[str, Any] = create_app(services).openapi()
    return document


# This feature's operations (other features' routers are mounted too, and fuzzed by them).
schema = schemathesis.openapi.from_dict(_document()).include(
    path_regex=r"^/api/(auth|agent|customers|calls|kb|notices|desk)(/|$)"
)
ISSUER = TokenIssuer(SECRET, minutes=15, ws_seconds=30, clock=SystemClock())
USERS = {"agent": (1, "agent01", "1001"), "admin": (2, "admin", None)}


def token(role: str) -> str:
    user_id, name, ext = USERS[role]
    minted, _ = ISSUER.issue(
        user_id=user_id, username=name, display_name=name, role=role, extension=ext
    )
    return minted  # a fresh one per case: a generated logout must not end the run


def clear_error_message(ctx: Any, response: Any, case: Any) -> bool | None:
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict), f"4xx body is not an object: {response.text[:200]}"
        message = body.get("message")
        assert isinstance(message, str), f"4xx without a message: {response.text[:200]}"
        assert len(message) >= 8, f"4xx message too short to help: {message!r}"
        assert isinstance(body.get("error"), str), f"4xx without an error code: {response.text}"
    return None


CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    clear_error_message,
]
FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@schema.parametrize()
@FUZZ
def test_api_as_admin(case: Any, base_url: str) -> None:
    case.call_and_validate(
        base_url=base_url, headers={"Authorization": f"Bearer {token('admin')}"}, checks=CHECKS
    )


@schema.parametrize()
@FUZZ
def test_api_as_agent(case: Any, base_url: str) -> None:
    case.call_and_validate(
        base_url=base_url, headers={"Authorization": f"Bearer {token('agent')}"}, checks=CHECKS
    )


@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_without_a_token(case: Any, base_url: str) -> None:
    response = case.call(base_url=base_url)
    if case.path != "/api/auth/login":
        # 401; 405 for the unsupported-method probes; 400/422 when the input is refused first
        assert response.status_code in (400, 401, 405, 422), response.text
    assert response.status_code < 500, response.text
    clear_error_message(None, response, case)
