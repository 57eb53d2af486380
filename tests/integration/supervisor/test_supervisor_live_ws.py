"""The supervisor websocket and GET /api/supervisor/live on a real uvicorn: the agent
socket's handshake (1008 for a bad token or role), a snapshot on connect, updates when a
call event arrives, and a ticket SLA breach published on bus topic "alert" (shaped as
tickets/sla.py publishes it) delivered to the supervisors it is addressed to."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from db.models import Role
from hotline.http import create_app
from hotline.services import Services
from kernel.clock import FakeClock
from supervisor.live_service import LiveService
from tests.harness.http_app import (
    Desk,
    add_user,
    api_server,
    api_services,
    bearer,
    issuer_for,
    login,
)
from tests.integration.supervisor.support_midnight import clear_of_midnight
from tests.integration.tickets.support import add_user as ticket_user
from tests.integration.tickets.support import local
from tickets.records import TicketDraft
from tickets.service import TicketService
from tickets.sla import SlaMonitor

pytestmark = pytest.mark.integration


@dataclass
class Env:
    services: Services
    live: LiveService
    base: str
    http: httpx.AsyncClient
    lead_id: int
    agent_id: int


@pytest.fixture
async def env(db_url: str) -> AsyncIterator[Env]:
    clock = FakeClock(clear_of_midnight(time.time(), 60))  # calls started 40 s ago: today's
    async with api_services(db_url, clock=clock) as services:
        agent = await add_user(services, "agent01", Role.AGENT, "1001", display_name="王芳")
        await add_user(services, "sup", Role.SUPERVISOR, "1901")
        lead = await add_user(services, "lead", Role.SUPERVISOR, "1902")
        await add_user(services, "boss", Role.ADMIN)
        live = LiveService(services, min_interval=0.1)
        await live.start()
        try:
            async with (
                api_server(create_app(services)) as base,
                httpx.AsyncClient(base_url=base) as http,
            ):
                assert lead.id is not None
                assert agent.id is not None
                yield Env(services, live, base, http, lead.id, agent.id)
        finally:
            await live.stop()


@contextlib.asynccontextmanager
async def board(base: str, token: str | None, *, origin: str | None = None) -> AsyncIterator[Desk]:
    url = base.replace("http://", "ws://") + "/ws/supervisor"
    headers = {"Origin": origin} if origin else None
    async with connect(url, additional_headers=headers, proxy=None, open_timeout=5) as ws:
        if token is not None:
            with contextlib.suppress(ConnectionClosed):  # refused before reading it
                await ws.send(json.dumps({"type": "auth", "token": token}))
        yield Desk(ws)


async def next_snapshot(d: Desk, accept: Any, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        frame = await d.next_of("snapshot", max(0.1, deadline - time.monotonic()))
        if accept(frame):
            return frame


def billing(snapshot: dict[str, Any]) -> dict[str, Any]:
    queues: dict[str, dict[str, Any]] = {q["queue"]: q for q in snapshot["queues"]}
    return queues["billing"]


QUEUED = {
    "type": "call.queued",
    "call_id": "live-1",
    "seq": 3,
    "at": 0.0,
    "call": {
        "call_id": "live-1",
        "caller_number": "13800138000",
        "skill": "billing",
        "disposition": "in_progress",
        "agents": [],
    },
}


async def test_given_a_supervisor_then_snapshot_on_connect_and_updates_on_events(
    env: Env,
) -> None:
    token = await login(env.http, "sup")
    async with board(env.base, token) as d:
        hello = await d.next()
        assert (hello["type"], hello["user"]["role"]) == ("hello", "supervisor")
        first = await next_snapshot(d, lambda s: True)
        assert billing(first)["waiting"] == 0
        assert {q["queue"] for q in first["queues"]} >= {"billing", "repair", "emergency"}
        now = env.services.clock.timestamp()
        event = json.loads(json.dumps(QUEUED))
        event["call"].update(started_at=now - 40, queued_at=now - 30)
        await env.services.bus.publish("call", event)
        snap = await next_snapshot(d, lambda s: billing(s)["waiting"] == 1)
        assert billing(snap)["longest_wait_seconds"] == pytest.approx(30, abs=1)
        assert billing(snap)["metrics"]["offered"] == 1
        await env.services.bus.publish(
            "agent",
            {
                "type": "agent.state",
                "agent_id": env.agent_id,
                "extension": "1001",
                "state": "not_ready",
                "reason": "lunch",
                "at": now,
            },
        )
        snap = await next_snapshot(d, lambda s: any(a["state"] == "not_ready" for a in s["agents"]))
        (agent,) = [a for a in snap["agents"] if a["extension"] == "1001"]
        assert (agent["name"], agent["reason"]) == ("王芳", "lunch")
    r = await env.http.get("/api/supervisor/live", headers=bearer(token))
    assert r.status_code == 200
    assert billing(r.json())["waiting"] == 1


SLA_BREACH = {
    "type": "sla.breach",
    "clock": "resolution",
    "level": 2,
    "department": "repair",
    "department_label": "抢修班",
    "ticket": {"id": 7, "number": "T20260302-0007", "subject": "燃气表漏气", "priority": "high"},
    "due_at": "2026-03-02T08:00:00+00:00",
    "at": "2026-03-02T08:00:05+00:00",
}


async def test_given_an_sla_breach_on_the_bus_then_it_reaches_the_addressed_supervisors(
    env: Env,
) -> None:
    lead_token = await login(env.http, "lead")
    boss_token = await login(env.http, "boss")
    sup_token = await login(env.http, "sup")
    alert = {**SLA_BREACH, "notify": {"roles": ["admin"], "user_ids": [env.lead_id]}}
    async with (
        board(env.base, lead_token) as lead,
        board(env.base, boss_token) as boss,
        board(env.base, sup_token) as sup,
    ):
        for d in (lead, boss, sup):
            await d.next_of("snapshot", 30)
        await env.services.bus.publish("alert", alert)
        for d in (lead, boss):
            frame = await d.next_of("alert", 30)
            assert frame["alert"]["kind"] == "sla.breach"
            assert frame["alert"]["ticket"]["subject"] == "燃气表漏气"
            assert frame["alert"]["level"] == 2
        # Not addressed to "sup" (neither its role nor its id): nothing but snapshots.
        snap = await next_snapshot(sup, lambda s: True)
        assert snap["alerts"] == []
        with pytest.raises(TimeoutError):
            await sup.next_of("alert", 1.0)
    r = await env.http.get("/api/supervisor/live", headers=bearer(lead_token))
    assert [a["kind"] for a in r.json()["alerts"]] == ["sla.breach"]


@pytest.mark.parametrize("who", ["agent01", None, "bad-token"])
async def test_given_no_supervisor_token_then_closed_1008(env: Env, who: str | None) -> None:
    token = "not-a-token" if who == "bad-token" else await login(env.http, who) if who else None
    async with board(env.base, token or "") as d:
        code, _reason = await d.closed(10)
    assert code == 1008


async def test_given_another_sites_origin_then_closed_1008(env: Env) -> None:
    token = await login(env.http, "sup")
    async with board(env.base, token, origin="https://evil.example") as d:
        code, reason = await d.closed(10)
    assert (code, reason) == (1008, "origin not allowed")


async def test_given_roles_then_live_json_for_staff_only(env: Env) -> None:
    assert (await env.http.get("/api/supervisor/live")).status_code == 401
    agent = await login(env.http, "agent01")
    r = await env.http.get("/api/supervisor/live", headers=bearer(agent))
    assert r.status_code == 403
    boss = await login(env.http, "boss")
    assert (await env.http.get("/api/supervisor/live", headers=bearer(boss))).status_code == 200


async def test_given_the_real_sla_monitor_when_a_ticket_breaches_then_its_lead_hears_it_live(
    db_url: str,
) -> None:
    """Issue 7: the escalation notification reaches a connected supervisor socket. The
    real TicketService and SlaMonitor on a controlled clock; the department lead's socket
    gets the breach the moment the monitor reports it."""
    clock = FakeClock(local("2026-09-30 19:00"))  # response due Sat 10-03 12:00 (4 h)
    async with api_services(db_url, clock=clock) as services:
        agent = await ticket_user(services, "agent01")
        lead = await ticket_user(
            services, "lead01", role=Role.SUPERVISOR, department="service_center"
        )
        ticket = (
            await TicketService(services).create(
                TicketDraft(category="complaint", subject="维修人员未按约定上门"), agent
            )
        ).ticket
        assert lead.id is not None
        monitor = SlaMonitor(services)
        live = LiveService(services, min_interval=0.1)
        await monitor.start()
        await live.start()
        try:
            async with api_server(create_app(services)) as base:
                breach_at = local("2026-10-03 12:00")
                clock.set(breach_at - dt.timedelta(minutes=1))
                token, _ = issuer_for(services).issue(
                    user_id=lead.id,
                    username="lead01",
                    display_name="lead01",
                    role="supervisor",
                    extension=None,
                )
                async with board(base, token) as d:
                    await d.next_of("snapshot", 30)
                    clock.set(breach_at)
                    monitor.poke()
                    deadline = time.monotonic() + 30
                    while True:
                        frame = await d.next_of("alert", max(0.1, deadline - time.monotonic()))
                        if frame["alert"]["kind"] == "sla.breach":
                            break
                    alert = frame["alert"]
                    assert (alert["clock"], alert["level"]) == ("response", 1)
                    assert alert["ticket"]["number"] == ticket.number
                    assert alert["ticket"]["subject"] == "维修人员未按约定上门"
                    assert lead.id in alert["notify"]["user_ids"]
        finally:
            await live.stop()
            await monitor.stop()
