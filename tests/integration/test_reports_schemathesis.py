"""Schemathesis over the recordings and reports routes (real uvicorn, SQLite): no input
the schema allows, or nearly allows, makes the server fail, and every 4xx says what was
wrong ({"error", "message"})."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks

from agent_api.app import create_app
from agent_api.tokens import TokenIssuer
from db.migrate import upgrade
from db.models import Role, metadata
from hotline.clock import SystemClock
from hotline.config import load_settings
from hotline.devservices.net import free_port, wait_for_port
from hotline.services import Services
from tests.integration.api_support import ROOT, add_call, add_user, api_services

pytestmark = pytest.mark.integration
SECRET = secrets.token_hex(32)
AUDIO = b"RIFF" + bytes(2000)


class ServerThread:
    def __init__(self, db_url: str, root: Path) -> None:
        self.db_url, self.root = db_url, root
        self.port = free_port()
        self.server: uvicorn.Server | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="reports-under-test", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by start()
            self.error = exc

    async def _main(self) -> None:
        env = {"HOTLINE_AUTH__SECRET_KEY": SECRET, "HOTLINE_RECORDING__ROOT": str(self.root)}
        async with api_services(self.db_url, clock=SystemClock(), env=env) as services:
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
            (self.root / "r").mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread((self.root / "r" / "1.wav").write_bytes, AUDIO)
            config = uvicorn.Config(
                create_app(services), host="127.0.0.1", port=self.port, log_level="warning"
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
    work = Path(tmp_path_factory.mktemp("reports-fuzz"))
    url = f"sqlite:///{work / 'hotline.db'}"
    upgrade(url)
    server = ServerThread(url, work / "recordings")
    try:
        yield server.start()
    finally:
        server.stop()


def _document() -> dict[str, Any]:
    settings = load_settings(ROOT / "config.yaml", env={"HOTLINE_AUTH__DEV_MODE": "true"})
    services = Services(settings, bus=None, engine=None, sessions=None)  # type: ignore[arg-type]
    document: dict[str, Any] = create_app(services).openapi()
    return document


schema = schemathesis.openapi.from_dict(_document()).include(
    path_regex=r"^/api/(recordings|reports)(/|$)"
)
ISSUER = TokenIssuer(SECRET, minutes=15, ws_seconds=30, clock=SystemClock())
USERS = {"agent": (1, "agent01", "1001"), "admin": (2, "admin", None)}


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


CHECKS = [st_checks.not_a_server_error, clear_error_message]
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)


@schema.parametrize()
@FUZZ
def test_reports_and_recordings_as_admin(case: Any, base_url: str) -> None:
    case.call_and_validate(
        base_url=base_url, headers={"Authorization": f"Bearer {token('admin')}"}, checks=CHECKS
    )


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_reports_and_recordings_as_agent(case: Any, base_url: str) -> None:
    case.call_and_validate(
        base_url=base_url, headers={"Authorization": f"Bearer {token('agent')}"}, checks=CHECKS
    )
