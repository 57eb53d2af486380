"""Schemathesis over the supervisor routes (real uvicorn, SQLite, the real router on a fake
PBX): no input the schema allows, or nearly allows, makes the server fail; responses
match the document; every 4xx says what was wrong ({"error", "message"})."""

from __future__ import annotations

import asyncio
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
from cti.fake_pbx import FakePbx
from db.migrate import upgrade
from db.models import AgentSkill, Role
from hotline.clock import SystemClock
from hotline.config import load_settings
from hotline.devservices.net import free_port, wait_for_port
from hotline.services import Services
from routing.service import RoutingService
from tests.integration.api_support import ROOT, add_user, api_services

pytestmark = pytest.mark.integration
SECRET = secrets.token_hex(32)


class ServerThread:
    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.port = free_port()
        self.server: uvicorn.Server | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="supervisor-under-test", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by start()
            self.error = exc

    async def _main(self) -> None:
        env = {"HOTLINE_AUTH__SECRET_KEY": SECRET}
        async with api_services(self.db_url, clock=SystemClock(), env=env) as services:
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
            config = uvicorn.Config(
                create_app(services), host="127.0.0.1", port=self.port, log_level="warning"
            )
            self.server = uvicorn.Server(config)
            try:
                await self.server.serve()
            finally:
                await router.stop()

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
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('supervisor-fuzz')) / 'hotline.db'}"
    upgrade(url)
    server = ServerThread(url)
    try:
        yield server.start()
    finally:
        server.stop()


def _document() -> dict[str, Any]:
    settings = load_settings(ROOT / "config.yaml", env={"HOTLINE_AUTH__DEV_MODE": "true"})
    services = Services(settings, bus=None, engine=None, sessions=None)  # type: ignore[arg-type]
    document: dict[str, Any] = create_app(services).openapi()
    return document


schema = schemathesis.openapi.from_dict(_document()).include(path_regex=r"^/api/supervisor/")
ISSUER = TokenIssuer(SECRET, minutes=15, ws_seconds=30, clock=SystemClock())
USERS = {
    "agent": (1, "agent01", "1001"),
    "supervisor": (2, "boss", "1901"),
    "admin": (3, "admin", None),
}


def token(role: str) -> str:
    user_id, name, ext = USERS[role]
    minted, _ = ISSUER.issue(
        user_id=user_id, username=name, display_name=name, role=role, extension=ext
    )
    return minted


def clear_error_message(ctx: Any, response: Any, case: Any) -> bool | None:
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict), f"4xx body is not an object: {response.text[:200]}"
        assert isinstance(body.get("message"), str), f"4xx without a message: {response.text}"
        assert len(body["message"]) >= 8, f"4xx message too short: {body['message']!r}"
        assert isinstance(body.get("error"), str), f"4xx without an error code: {response.text}"
    return None


CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    clear_error_message,
]
FUZZ = settings(
    max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)


@schema.parametrize()
@FUZZ
def test_supervisor_routes_as_supervisor(case: Any, base_url: str) -> None:
    case.call_and_validate(
        base_url=base_url, headers={"Authorization": f"Bearer {token('supervisor')}"}, checks=CHECKS
    )


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_supervisor_routes_as_admin_and_agent(case: Any, base_url: str) -> None:
    for role in ("admin", "agent"):
        case.call_and_validate(
            base_url=base_url, headers={"Authorization": f"Bearer {token(role)}"}, checks=CHECKS
        )
