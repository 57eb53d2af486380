"""The routing adapter on the fake PBX (cti/fake_pbx.py) and the in-process bus: the real
RoutingService with its intake, dispatcher and connector; a test plays the CTI bridge's
part (call.* events) and reads what the router told the PBX."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from cti.commands import PbxCommands
from cti.fake_pbx import FakePbx
from db.models import AgentSkill, CallbackRequest
from hotline.runtime import Infrastructure, Runtime
from hotline.services import Services
from kernel.clock import SystemClock
from routing.service import RoutingService
from tests.harness.http_app import add_user, api_services
from tests.support import eventually

CALLER_CHANNEL = "Local/95777@hotline-inbound-00000001;2"


@dataclass
class World:
    services: Services
    pbx: FakePbx
    router: RoutingService
    agent_id: int

    async def publish(self, kind: str, **event: Any) -> None:
        at = time.time()
        await self.services.bus.publish("call", {"type": kind, "at": at, **event})

    def originates(self) -> list[dict[str, Any]]:
        return [args for name, args in self.pbx.commands if name == "originate"]

    def redirected(self) -> list[str]:
        return [args["channel"] for name, args in self.pbx.commands if name == "redirect"]

    async def callback_row(self) -> dict[str, Any]:
        table = CallbackRequest.__table__  # type: ignore[attr-defined]
        async with self.services.engine.connect() as conn:
            (row,) = (await conn.execute(sa.select(table))).all()
        return dict(row._mapping)


@contextlib.asynccontextmanager
async def world(
    db_url: str,
    *,
    pbx: PbxCommands | None = None,
    env: dict[str, str] | None = None,
    **routing: Any,
) -> AsyncIterator[World]:
    """The router on `pbx` (default: a FakePbx, World.pbx; unused when `pbx` is given),
    with routing.* settings from keywords and any other HOTLINE_* from `env`."""
    env = {**(env or {}), **{f"HOTLINE_ROUTING__{k.upper()}": str(v) for k, v in routing.items()}}
    fake = FakePbx()
    async with api_services(db_url, clock=SystemClock(), env=env) as services:
        user = await add_user(services, "agent01", extension="1001")
        assert user.id is not None
        async with services.sessions() as session:
            session.add(AgentSkill(user_id=user.id, skill="billing", level=8))
            await session.commit()
        # The real Runtime, with the prepared database and bus, runs only the router.
        runtime = Runtime(
            services.settings,
            role="pbx",
            only={"routing"},
            migrate=False,
            infrastructure=Infrastructure(
                services.bus, services.engine, services.sessions, services.clock, pbx=pbx or fake
            ),
        )
        running = await runtime.start()
        try:
            router = running.features.routing
            assert router is not None
            # As after a real start: the first rebuild from the PBX (here: nothing
            # holding) is done before the test plays the bridge's events.
            await eventually(lambda: router.intake.rebuilder.rebuilds >= 1, 5, "the first rebuild")
            yield World(running, fake, router, user.id)
        finally:
            await runtime.stop()
