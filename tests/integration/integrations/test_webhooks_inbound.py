"""The incoming side of the integration gateway: the repair-dispatch system closes the
job over HMAC-signed HTTP; unsigned or replayed requests change nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from db.models import TicketState
from hotline.services import Services
from integrations.inbound import router
from integrations.signing import SIGNATURE_HEADER, sign
from tests.integration.tickets.support import add_user, make_services, tid
from tickets.records import TicketDraft
from tickets.service import TicketService

SECRET = "dispatch-key"
ENV = {
    "HOTLINE_TICKETS__WEBHOOKS": (
        '[{name: dispatch, url: "http://127.0.0.1:9/unused", secret_env: HOTLINE_TEST_IN_SECRET, '
        'inbound: true}, {name: billing, url: "http://127.0.0.1:9/b", secret_env: HOTLINE_TEST_IN_SECRET}]'
    )
}


@pytest.fixture
async def services(db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Services]:
    monkeypatch.setenv("HOTLINE_TEST_IN_SECRET", SECRET)
    async for s in make_services(db_url, env=ENV):
        yield s


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.services = services
    app.include_router(router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hotline"
    ) as c:
        yield c


async def post(
    client: httpx.AsyncClient,
    services: Services,
    path: str,
    payload: dict[str, Any],
    secret: str = SECRET,
) -> httpx.Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    signature = sign(secret, body, services.clock.timestamp())
    return await client.post(path, content=body, headers={SIGNATURE_HEADER: signature})


async def test_given_a_signed_update_when_the_crew_closes_the_job_then_the_ticket_is_resolved_once(
    services: Services, client: httpx.AsyncClient
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    t = (await svc.create(TicketDraft(category="repair", subject="户内管道漏气"), agent)).ticket
    path = f"/integrations/dispatch/tickets/{t.number}"

    started = await post(client, services, path, {"event_id": "job-1-start", "action": "start"})
    assert started.status_code == 200
    assert started.json()["ticket"]["state"] == "in_progress"
    update = {"event_id": "job-1-done", "action": "resolve", "resolution": "已更换胶管，检漏合格"}
    done = await post(client, services, path, update)
    assert done.status_code == 200
    assert done.json()["applied"] is True
    again = await post(client, services, path, update)  # the dispatch system retries
    assert again.status_code == 200
    assert again.json()["applied"] is False

    t = await svc.get(tid(t))
    assert t.state == TicketState.RESOLVED
    assert t.resolution == "已更换胶管，检漏合格"
    trail = await svc.history(tid(t))
    assert [e.action for e in trail].count("resolved") == 1
    assert trail[-2].actor_name == "integration:dispatch"


async def test_given_bad_requests_then_nothing_changes(
    services: Services, client: httpx.AsyncClient
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    t = (await svc.create(TicketDraft(category="repair", subject="表具故障"), agent)).ticket
    path = f"/integrations/dispatch/tickets/{t.number}"
    body = {"event_id": "x1", "action": "close"}

    wrong_key = await post(client, services, path, body, secret="guess")
    assert wrong_key.status_code == 401
    unsigned = await client.post(path, json=body)
    assert unsigned.status_code == 401
    not_inbound = await post(client, services, f"/integrations/billing/tickets/{t.number}", body)
    assert not_inbound.status_code == 404
    unknown = await post(client, services, "/integrations/dispatch/tickets/GD20990101-000001", body)
    assert unknown.status_code == 404
    illegal = await post(client, services, path, body)  # closing a new ticket
    assert illegal.status_code == 409
    invalid = await post(client, services, path, {"event_id": "x2", "action": "explode"})
    assert invalid.status_code == 422
    assert len(await svc.history(tid(t))) == 1  # only "created"
