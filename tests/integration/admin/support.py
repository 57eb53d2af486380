"""What the administration tests share: an app with an admin signed in."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from db.models import Role
from hotline.http import create_app
from hotline.services import Services
from kernel.clock import FakeClock
from tests.harness.http_app import add_user, api_client, api_services, bearer, login

NEW_PASSWORD = "Binjiang2027hotline"


@dataclass
class AdminApp:
    services: Services
    client: httpx.AsyncClient
    clock: FakeClock
    admin_token: str

    @property
    def admin(self) -> dict[str, str]:
        return bearer(self.admin_token)


@contextlib.asynccontextmanager
async def admin_app(
    db_url: str, start: dt.datetime | float = 1_796_000_000.0
) -> AsyncIterator[AdminApp]:
    """The admin signs in at `start` (default 2026-11-30): move the clock within the
    token's 15 minutes, or pass the instant the test needs."""
    clock = FakeClock(start)
    async with api_services(db_url, clock=clock) as services:
        await add_user(services, "boss", Role.ADMIN, display_name="王管理")
        async with api_client(create_app(services)) as client:
            token = await login(client, "boss")
            yield AdminApp(services, client, clock, token)
