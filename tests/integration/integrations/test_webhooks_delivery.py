"""Outgoing webhooks against a real HTTP receiver on loopback that fails the first two
attempts of every event: each event is delivered once, in order per ticket, signed,
with every attempt logged; two gateways running at once never double-send."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from sqlmodel import col, select

from db.models import DeliveryState, WebhookAttempt, WebhookDelivery
from devtools.services.net import free_port
from hotline.services import Services
from integrations.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, verify
from integrations.webhooks import MissingSecret, WebhookGateway
from kernel.clock import SystemClock
from tests.integration.tickets.support import add_user, make_services, services_for, tid
from tests.support import eventually
from tickets.lifecycle import Action
from tickets.records import TicketDraft
from tickets.service import TicketService

SECRET = "s3cret-调度"
SECRET_ENV = "HOTLINE_TEST_DISPATCH_SECRET"


@dataclass
class Receiver:
    fail_first: int = 2
    attempts: dict[str, int] = field(default_factory=dict)
    processed: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    bad_signatures: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify(
            SECRET, request.headers.get(SIGNATURE_HEADER), body, SystemClock().timestamp()
        ):
            self.bad_signatures += 1
            return web.Response(status=401)
        delivery = request.headers[DELIVERY_HEADER]
        self.attempts[delivery] = self.attempts.get(delivery, 0) + 1
        if self.attempts[delivery] <= self.fail_first:
            return web.Response(status=500, text="dispatch system busy")
        if all(d != delivery for d, _, _ in self.processed):  # idempotent receiver
            self.processed.append((delivery, request.headers[EVENT_HEADER], json.loads(body)))
        return web.Response(status=200)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    r = Receiver()
    app = web.Application()
    app.router.add_post("/hotline/events", r.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield r, f"http://127.0.0.1:{port}/hotline/events"
    finally:
        await runner.cleanup()


def hook_env(url: str, **extra: str) -> dict[str, str]:
    options = ", ".join(f"{k}: {v}" for k, v in extra.items())
    return {
        "HOTLINE_TICKETS__WEBHOOKS": (
            f'[{{name: dispatch, url: "{url}", events: [ticket.created, ticket.resolved], '
            f"categories: [repair], secret_env: {SECRET_ENV}, backoff_seconds: 0.2{', ' + options if options else ''}}}]"
        )
    }


@pytest.fixture
async def services(
    db_url: str, receiver: tuple[Receiver, str], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Services]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    async for s in make_services(db_url, clock=SystemClock(), env=hook_env(receiver[1])):
        yield s


async def test_given_a_receiver_failing_twice_then_each_event_is_delivered_once_in_order_and_logged(
    services: Services, receiver: tuple[Receiver, str]
) -> None:
    r, _url = receiver
    gateways = [WebhookGateway(services), WebhookGateway(services)]  # two backend processes
    for g in gateways:
        await g.start()
    try:
        svc = TicketService(services)
        agent = await add_user(services, "agent01")
        repair = (
            await svc.create(TicketDraft(category="repair", subject="调压箱异响"), agent)
        ).ticket
        await svc.create(
            TicketDraft(category="complaint", subject="不相关的投诉"), agent
        )  # not wanted
        await svc.transition(tid(repair), Action.RESOLVE, agent, resolution="已更换调压阀")

        async def delivered() -> bool:
            async with services.sessions() as s:
                rows = (await s.exec(select(WebhookDelivery.state))).all()
                return rows == [DeliveryState.DELIVERED] * 2

        await eventually(delivered, timeout=15, what="two deliveries logged as delivered")
    finally:
        for g in gateways:
            await g.stop()

    assert r.bad_signatures == 0
    assert [(kind, body["ticket"]["number"]) for _, kind, body in r.processed] == [
        ("ticket.created", repair.number),
        ("ticket.resolved", repair.number),
    ]
    assert r.processed[1][2]["ticket"]["resolution"] == "已更换调压阀"
    assert r.processed[1][2]["change"]["from"] == "new"
    assert sorted(r.attempts.values()) == [3, 3]  # never more than the failures + 1
    async with services.sessions() as s:
        deliveries = (await s.exec(select(WebhookDelivery).order_by(col(WebhookDelivery.id)))).all()
        assert [(d.event_type, d.state, d.attempts, d.last_status_code) for d in deliveries] == [
            ("ticket.created", DeliveryState.DELIVERED, 3, 200),
            ("ticket.resolved", DeliveryState.DELIVERED, 3, 200),
        ]
        for d in deliveries:
            log = (
                await s.exec(
                    select(WebhookAttempt)
                    .where(WebhookAttempt.delivery_id == d.id)
                    .order_by(col(WebhookAttempt.at), col(WebhookAttempt.id))
                )
            ).all()
            assert [a.status_code for a in log] == [500, 500, 200]
            assert "dispatch system busy" in (log[0].error or "")
            # Exponential backoff: 0.2 s, then 0.4 s.
            gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(log)]
            assert gaps[0] >= 0.19
            assert gaps[1] >= 0.39
        # The resolved event waited for the created one (order per endpoint and ticket).
        assert deliveries[0].delivered_at is not None
        first_resolved_attempt = (
            await s.exec(
                select(WebhookAttempt).where(WebhookAttempt.delivery_id == deliveries[1].id)
            )
        ).all()
        assert min(a.at for a in first_resolved_attempt) >= deliveries[0].delivered_at


async def test_given_a_dead_endpoint_then_retries_stop_at_max_attempts(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    url = f"http://127.0.0.1:{free_port()}/nobody-listens"
    async with services_for(
        db_url, clock=SystemClock(), env=hook_env(url, max_attempts="2")
    ) as services:
        gateway = WebhookGateway(services)
        await gateway.start()
        try:
            agent = await add_user(services, "agent01")
            await TicketService(services).create(
                TicketDraft(category="repair", subject="无人接收"), agent
            )

            async def dead() -> bool:
                async with services.sessions() as s:
                    row = (await s.exec(select(WebhookDelivery))).one()
                    return row.state == DeliveryState.DEAD

            await eventually(dead, timeout=10, what="dead letter")
        finally:
            await gateway.stop()
        async with services.sessions() as s:
            row = (await s.exec(select(WebhookDelivery))).one()
            assert row.attempts == 2
            assert row.next_attempt_at is None
            assert "ConnectError" in (row.last_error or "")
            assert len((await s.exec(select(WebhookAttempt))).all()) == 2


async def test_given_a_missing_secret_then_the_gateway_refuses_to_start(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    async with services_for(db_url, env=hook_env("http://127.0.0.1:9/x")) as services:
        with pytest.raises(MissingSecret, match=SECRET_ENV):
            await WebhookGateway(services).start()
