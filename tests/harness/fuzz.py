"""What the schemathesis test modules share: the app's OpenAPI document, a real uvicorn
serving the app in a thread (the schemathesis tests are synchronous), tokens per role,
and the "every 4xx says what was wrong" check.

Each module gives the server a `prepare` coroutine that seeds its database (and may
start what its routes need, returning a coroutine run when the server stops)."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import uvicorn
from hypothesis import HealthCheck, settings

from agent_api.tokens import TokenIssuer
from db.migrate import upgrade
from devtools.services.net import free_port, wait_for_port
from hotline.http import create_app
from hotline.services import Services
from kernel.clock import SystemClock
from kernel.config import load_settings
from tests.harness.http_app import ROOT, api_services

SECRET = secrets.token_hex(32)
ISSUER = TokenIssuer(SECRET, minutes=15, ws_seconds=30, clock=SystemClock())
# Seeded users, as (users.id, username, extension) by role: every `prepare` adds the users
# its module's tokens name, in id order.
Users = dict[str, tuple[int, str, str | None]]
Cleanup = Callable[[], Awaitable[None]]
Prepare = Callable[[Services], Awaitable[Cleanup | None]]

FUZZ = settings(
    max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
FEW = settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document, from an app built without starting anything (no I/O)."""
    s = load_settings(ROOT / "config.yaml", env={"HOTLINE_AUTH__DEV_MODE": "true"})
    services = Services(s, bus=None, engine=None, sessions=None)  # type: ignore[arg-type]
    document: dict[str, Any] = create_app(services).openapi()
    return document


def token(users: Users, role: str) -> str:
    """A fresh token per case: a generated logout must not end the run."""
    user_id, name, ext = users[role]
    minted, _ = ISSUER.issue(
        user_id=user_id, username=name, display_name=name, role=role, extension=ext
    )
    return minted


def bearer(users: Users, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(users, role)}"}


def clear_error_message(ctx: Any, response: Any, case: Any) -> bool | None:
    """A schemathesis check: a 4xx body is {"error": code, "message": a sentence}."""
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict), f"4xx body is not an object: {response.text[:200]}"
        message = body.get("message")
        assert isinstance(message, str), f"4xx without a message: {response.text[:200]}"
        assert len(message) >= 8, f"4xx message too short to help: {message!r}"
        assert isinstance(body.get("error"), str), f"4xx without an error code: {response.text}"
    return None


class ServerThread:
    """uvicorn + the app + a seeded database, in a thread with its own event loop."""

    def __init__(self, db_url: str, prepare: Prepare, env: dict[str, str]) -> None:
        self.db_url, self.prepare, self.env = db_url, prepare, env
        self.port = free_port()
        self.server: uvicorn.Server | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="app-under-fuzz", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by start()
            self.error = exc

    async def _main(self) -> None:
        env = {"HOTLINE_AUTH__SECRET_KEY": SECRET, **self.env}
        async with api_services(self.db_url, clock=SystemClock(), env=env) as services:
            cleanup = await self.prepare(services)
            config = uvicorn.Config(
                create_app(services),
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                ws="websockets-sansio",
            )
            self.server = uvicorn.Server(config)
            try:
                await self.server.serve()
            finally:
                if cleanup is not None:
                    await cleanup()

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


def serve_app(work: Path, prepare: Prepare, env: dict[str, str] | None = None) -> Iterator[str]:
    """Body of a module-scoped `base_url` fixture: a migrated SQLite database under
    `work`, the app on a free port until the module's tests are done."""
    url = f"sqlite:///{work / 'hotline.db'}"
    upgrade(url)
    server = ServerThread(url, prepare, env or {})
    try:
        yield server.start()
    finally:
        server.stop()
