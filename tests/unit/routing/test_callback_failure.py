"""A callback attempt that fails hands its reserved agent back at once: the next waiting
caller is offered to that agent right away, and the agent is never blamed (no no-answer
counted, never paused) for a customer Hotline could not reach.

The router runs on the fake PBX (cti/fake_pbx.py) and the in-process bus: the test plays
the CTI bridge's part (call.* events) and the agent desktop's (offer.delivered)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from cti.commands import PbxError
from cti.fake_pbx import FakePbx
from db.models import AgentSkill, CallbackRequest
from hotline.services import Services
from kernel.clock import SystemClock
from routing.pbx import connector
from routing.service import RoutingService
from tests.integration.api_support import add_user, api_services
from tests.support import eventually

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"])

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
async def world(db_url: str, **routing: Any) -> AsyncIterator[World]:
    env = {f"HOTLINE_ROUTING__{k.upper()}": str(v) for k, v in routing.items()}
    async with api_services(db_url, clock=SystemClock(), env=env) as services:
        user = await add_user(services, "agent01", extension="1001")
        assert user.id is not None
        async with services.sessions() as session:
            session.add(AgentSkill(user_id=user.id, skill="billing", level=8))
            await session.commit()
        pbx = FakePbx()
        services.pbx = pbx
        router = RoutingService(services)
        await router.start()
        try:
            yield World(services, pbx, router, user.id)
        finally:
            await router.stop()


async def callback_then_live_caller(w: World) -> None:
    """A callback keeps an early place in billing; a live caller waits behind it."""
    now = time.time()
    snapshot = {"skill": "billing", "tier": "B", "language": "zh"}
    await w.publish(
        "call.callback_requested",
        call_id="t-origin",
        number="13600000003",
        call={**snapshot, "queued_at": now - 100},
    )
    await w.publish(
        "call.queued",
        call_id="t-live",
        queue="hold-billing",
        channel=CALLER_CHANNEL,
        uniqueid="t-live",
        call={**snapshot, "queued_at": now - 10, "caller_number": "13900000009"},
    )
    await eventually(
        lambda: [c["kind"] for c in w.router.waiting_calls()] == ["callback", "live"],
        5,
        "the callback waits ahead of the live caller",
    )
    await w.router.login(w.agent_id)


async def test_given_the_originate_is_refused_then_the_agent_takes_the_live_caller_at_once(
    db_url: str,
) -> None:
    async with world(db_url) as w:
        await callback_then_live_caller(w)
        w.pbx.fail_next = PbxError("Originate failed")
        await w.router.ready(w.agent_id)
        await eventually(lambda: w.redirected() == [CALLER_CHANNEL], 2, "live caller connected")
        assert w.originates() == []  # the refused originate was never carried out
        agent = w.router.agent(w.agent_id)
        assert (agent["state"], agent["call_id"], agent["no_answers"]) == ("reserved", "t-live", 0)
        row = await w.callback_row()
        assert (row["state"], row["attempts"], row["outcome"]) == (
            "retry_wait",
            1,
            "originate refused: Originate failed",
        )


async def test_given_the_customer_leg_fails_then_the_agent_takes_the_live_caller_at_once(
    db_url: str,
) -> None:
    async with world(db_url) as w:
        await callback_then_live_caller(w)
        await w.router.ready(w.agent_id)
        await eventually(lambda: len(w.originates()) == 1, 2, "the customer is dialled")
        attempt = w.originates()[0]["uniqueid"]
        assert attempt.startswith("hlcb-")
        assert w.router.agent(w.agent_id)["state"] == "reserved"
        # What the bridge reports for a customer leg that fails at once (seen on Asterisk
        # 22: DialEnd CONGESTION on the customer's number, then the attempt's hangup).
        await w.publish("call.started", call_id=attempt, call={})
        await w.publish(
            "call.agent_no_answer", call_id=attempt, agent="13600000003", status="CONGESTION"
        )
        failed = time.monotonic()
        await w.publish("call.ended", call_id=attempt, call={})
        await eventually(lambda: w.redirected() == [CALLER_CHANNEL], 2, "live caller connected")
        assert time.monotonic() - failed < 1.0
        agent = w.router.agent(w.agent_id)
        assert (agent["call_id"], agent["no_answers"]) == ("t-live", 0)
        row = await w.callback_row()
        assert (row["state"], row["outcome"]) == ("retry_wait", "customer not reached")


async def test_given_asterisk_never_reports_the_attempt_then_the_agent_is_not_blamed(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The attempt's events are lost (e.g. the AMI link dropped meanwhile): the watchdog
    # gives the attempt up as "customer not reached", not as the agent's no-answer.
    monkeypatch.setattr(connector, "WATCHDOG_MARGIN", 0.0)
    async with world(db_url, offer_timeout_seconds=1, callback__ring_seconds=1) as w:
        await callback_then_live_caller(w)
        await w.router.ready(w.agent_id)
        await eventually(lambda: len(w.originates()) == 1, 2, "the customer is dialled")
        await eventually(lambda: w.redirected() == [CALLER_CHANNEL], 5, "live caller connected")
        agent = w.router.agent(w.agent_id)
        assert (agent["state"], agent["call_id"], agent["no_answers"]) == ("reserved", "t-live", 0)
        row = await w.callback_row()
        assert (row["state"], row["attempts"]) == ("retry_wait", 1)
        assert [c["kind"] for c in w.router.waiting_calls()] == []  # retried later, not now
