"""The screen-pop: the router's offer reaches the offered agent's desktop only, enriched
with the caller's file, is acknowledged to the router (offer.delivered) once sent, and
is replayed to a desktop that reconnects. A real uvicorn and websocket clients."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from db.models import Role, Ticket, TicketState
from hotline.http import create_app
from hotline.services import Services
from kernel.audit import AUDIT
from kernel.clock import FakeClock
from tests.harness.http_app import (
    add_call,
    add_customer,
    add_user,
    api_server,
    api_services,
    bearer,
    desk,
    login,
)
from tests.support import eventually

pytestmark = pytest.mark.integration
NOW = 1_900_000_000.0


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


@dataclass
class World:
    services: Services
    base: str
    http: httpx.AsyncClient
    ids: dict[str, int]
    app: Any


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    clock = FakeClock(NOW)
    env = {"HOTLINE_AUTH__AGENT_CUSTOMER_ACCESS": "on_call"}
    async with api_services(db_url, clock=clock, env=env) as services:
        a = await add_user(services, "agent01", Role.AGENT, "1001", display_name="李娜")
        b = await add_user(services, "agent02", Role.AGENT, "1002")
        zhang = await add_customer(
            services, "张伟", "13912345678", tier="A", arrears="312.40", account="1000000018"
        )
        async with services.sessions() as s:
            s.add(
                Ticket(
                    number="GD20260101-000001",
                    category="repair",
                    department="repair_crew",
                    customer_id=zhang.id,
                    subject="燃气表漏气",
                    state=TicketState.IN_PROGRESS,
                )
            )
            await s.commit()
        await add_call(services, "1899999000.7", customer_id=zhang.id, caller="13912345678")
        app = create_app(services)
        async with api_server(app) as base, httpx.AsyncClient(base_url=base) as http:
            assert a.id is not None
            assert b.id is not None
            assert zhang.id is not None
            yield World(services, base, http, {"a": a.id, "b": b.id, "zhang": zhang.id}, app)


def offer(agent_id: int, call_id: str, **call: Any) -> dict[str, Any]:
    snapshot = {
        "call_id": call_id,
        "caller_number": "13912345678",
        "caller_name": "",
        "dialed_number": "95777",
        "ivr_path": ["main", "to_emergency"],
        "ivr_outcome": "queue",
        "ivr_facts": "fault=gas_leak;balance=-312.40",
        "skill": "emergency",
        "priority": 1030,
        "customer_id": None,
        "tier": None,
        "language": "zh",
        "queued_at": NOW - 42,
        "disposition": "in_progress",
        "agents": [],
        **call,
    }
    return {
        "type": "offer",
        "agent_id": agent_id,
        "extension": f"{1000 + agent_id}",
        "call_id": call_id,
        "skill": "emergency",
        "priority": 1030,
        "wait_seconds": 42.0,
        "estimated_wait": None,
        "kind": "inbound",
        "call": snapshot,
    }


async def test_given_an_offer_for_one_agent_then_only_that_agent_gets_the_pop(world: World) -> None:
    a, b = world.ids["a"], world.ids["b"]
    delivered = await world.services.bus.subscribe("offer")
    ta, tb = await login(world.http, "agent01"), await login(world.http, "agent02")
    async with desk(world.base, token=ta) as da, desk(world.base, token=tb) as db:
        await world.services.bus.publish(
            "offer", offer(a, "1900000000.1", customer_id=str(world.ids["zhang"]))
        )
        # Then something for b, so b's next frame proves nothing else came before it.
        await world.services.bus.publish(
            "agent", {"type": "agent.state", "agent_id": b, "state": "available", "at": NOW}
        )
        pop = await da.next()
        assert pop["type"] == "pop"
        assert pop["call_id"] == "1900000000.1"
        first_for_b = await db.next()
        assert (first_for_b["type"], first_for_b["state"]) == ("agent", "available")
        # The router hears the pop is on screen: exactly one ack, for a, after the offer.
        seen = [(await delivered.get(timeout=5)).data for _ in range(2)]
        assert seen[0]["type"] == "offer"
        assert seen[1] == {
            "type": "offer.delivered",
            "agent_id": a,
            "call_id": "1900000000.1",
            "at": NOW,
        }
        with pytest.raises(TimeoutError):
            await delivered.get(timeout=0.3)
        # b cannot read the caller's file either (auth.agent_customer_access: on_call).
        r = await world.http.get(f"/api/customers/{world.ids['zhang']}", headers=bearer(tb))
        assert r.status_code == 403
        assert "only while on a call" in r.json()["message"]
        r = await world.http.get(f"/api/customers/{world.ids['zhang']}", headers=bearer(ta))
        assert r.status_code == 200
        assert r.json()["customer"]["name"] == "张伟"


async def test_given_a_known_caller_then_the_pop_shows_the_file_tier_ivr_and_history(
    world: World,
) -> None:
    ta = await login(world.http, "agent01")
    async with desk(world.base, token=ta) as d:
        await world.services.bus.publish(
            "offer", offer(world.ids["a"], "1900000000.2", customer_id=str(world.ids["zhang"]))
        )
        pop = (await d.next_of("pop"))["pop"]
    # privacy.full_number_roles: an agent's pop carries masked numbers only.
    assert pop["caller"] == {"number": "139****5678", "name": "", "known": True}
    assert [p["number"] for p in pop["customer"]["phones"]] == ["139****5678"]
    assert pop["customer"]["name"] == "张伟"
    assert pop["customer"]["arrears"] == "312.40"
    assert pop["tier"]["code"] == "A"
    assert pop["tier"]["label"] == {"zh": "大客户", "en": "Key account"}
    texts = [f["text"]["en"] for f in pop["ivr"]["facts"]]
    assert texts == ["reported a gas leak", "heard balance: ¥312.40 overdue"]
    assert pop["ivr"]["steps"][1]["label"]["zh"] == "选择：燃气抢险"
    assert [t["subject"] for t in pop["open_tickets"]] == ["燃气表漏气"]
    assert [c["linkedid"] for c in pop["recent_calls"]] == ["1899999000.7"]
    assert pop["wait_seconds"] == 42.0
    assert pop["skill_label"]["en"] == "Gas emergency"
    assert not pop["partial"]

    async def audited() -> bool:
        async with world.services.engine.connect() as conn:
            rows = (
                await conn.execute(sa.select(AUDIT.c.action, AUDIT.c.source, AUDIT.c.object_id))
            ).all()
        return ("customer.read", "screen_pop", str(world.ids["zhang"])) in [tuple(r) for r in rows]

    await eventually(audited, 5, "the pop's file read in audit_log")


async def test_given_a_number_of_one_customer_then_the_pop_finds_them_without_the_ivr(
    world: World,
) -> None:
    ta = await login(world.http, "agent01")
    async with desk(world.base, token=ta) as d:
        await world.services.bus.publish("offer", offer(world.ids["a"], "1900000000.3"))
        pop = (await d.next_of("pop"))["pop"]
    assert pop["customer"]["name"] == "张伟"
    assert pop["tier"]["code"] == "A"


async def test_given_an_unknown_number_then_the_pop_says_unknown_caller_with_the_number(
    world: World,
) -> None:
    ta = await login(world.http, "agent01")
    async with desk(world.base, token=ta) as d:
        await world.services.bus.publish(
            "offer", offer(world.ids["a"], "1900000000.4", caller_number="13700001111")
        )
        pop = (await d.next_of("pop"))["pop"]
    assert pop["customer"] is None
    assert pop["caller"] == {"number": "137****1111", "name": "", "known": False}
    assert pop["candidates"] == []


async def test_given_the_call_was_queued_first_then_the_pop_is_built_from_the_prefetch(
    world: World,
) -> None:
    hub = world.app.state.hub
    ta = await login(world.http, "agent01")
    async with desk(world.base, token=ta) as d:
        snap = offer(world.ids["a"], "1900000000.5", customer_id=str(world.ids["zhang"]))["call"]
        await world.services.bus.publish(
            "call",
            {"type": "call.queued", "call_id": "1900000000.5", "seq": 3, "at": NOW, "call": snap},
        )
        await eventually(lambda: hub.builder.cached(snap) is not None, 5, "prefetched")
        await world.services.bus.publish(
            "offer", offer(world.ids["a"], "1900000000.5", customer_id=str(world.ids["zhang"]))
        )
        pop = (await d.next_of("pop"))["pop"]
        assert pop["customer"]["name"] == "张伟"
        # Then the call's own events reach the agent, in order.
        for kind in ("call.offered", "call.answered", "call.ended"):
            await world.services.bus.publish(
                "call",
                {
                    "type": kind,
                    "call_id": "1900000000.5",
                    "seq": 4,
                    "at": NOW,
                    "agent": "1001",
                    "call": {**snap, "agents": ["1001"] if kind != "call.offered" else []},
                },
            )
        events = [(await d.next_of("call"))["event"] for _ in range(3)]
    assert events == ["call.offered", "call.answered", "call.ended"]


async def test_given_a_reconnect_then_the_desktop_gets_what_it_missed_in_order(
    world: World,
) -> None:
    a = world.ids["a"]
    bus = world.services.bus
    delivered = await bus.subscribe("offer")
    ta = await login(world.http, "agent01")
    async with desk(world.base, token=ta) as d:
        await bus.publish(
            "agent", {"type": "agent.state", "agent_id": a, "state": "available", "at": NOW}
        )
        seen = await d.next_of("agent")
        epoch, seq = seen["epoch"], seen["seq"]
    # Offline: a state change, then an offer (the pop must not be lost).
    await bus.publish(
        "agent", {"type": "agent.state", "agent_id": a, "state": "reserved", "at": NOW}
    )
    await bus.publish("offer", offer(a, "1900000000.6", customer_id=str(world.ids["zhang"])))
    await bus.publish(
        "call",
        {
            "type": "call.offered",
            "call_id": "1900000000.6",
            "seq": 5,
            "at": NOW,
            "agent": "1001",
            "call": {},
        },
    )
    async with desk(world.base, token=ta, resume={"epoch": epoch, "seq": seq}) as d:
        assert (d.hello["replayed"], d.hello["complete"]) == (3, True)
        frames = [await d.next() for _ in range(3)]
    assert [f["type"] for f in frames] == ["agent", "pop", "call"]
    assert [f["seq"] for f in frames] == [seq + 1, seq + 2, seq + 3]
    assert frames[1]["pop"]["customer"]["name"] == "张伟"  # rendered on replay
    acks: list[dict[str, Any]] = []
    while len(acks) < 1:
        msg = (await delivered.get(timeout=5)).data
        if msg["type"] == "offer.delivered":
            acks.append(msg)
    assert acks[0]["call_id"] == "1900000000.6"


async def test_given_a_desktop_opened_later_then_it_gets_the_recent_window_with_ids(
    world: World,
) -> None:
    a = world.ids["a"]
    await world.services.bus.publish("offer", offer(a, "1900000000.8"))
    ta = await login(world.http, "agent01")
    async with desk(world.base, token=ta) as d:
        assert d.hello["replayed"] == 1
        pop = await d.next()
    assert pop["type"] == "pop"
    assert pop["id"].startswith("offer:")


async def test_given_a_slow_file_when_other_events_follow_then_the_agent_still_gets_them_in_order(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = world.app.state.hub
    original = hub.builder._read
    gate = asyncio.Event()

    async def slow_read(key: Any) -> Any:
        await gate.wait()
        return await original(key)

    monkeypatch.setattr(hub.builder, "_read", slow_read)
    a, b = world.ids["a"], world.ids["b"]
    ta, tb = await login(world.http, "agent01"), await login(world.http, "agent02")
    async with desk(world.base, token=ta) as da, desk(world.base, token=tb) as db:
        bus = world.services.bus
        await bus.publish("offer", offer(a, "1900000000.9", customer_id=str(world.ids["zhang"])))
        await bus.publish(
            "agent", {"type": "agent.state", "agent_id": a, "state": "reserved", "at": NOW}
        )
        await bus.publish(
            "agent", {"type": "agent.state", "agent_id": b, "state": "not_ready", "at": NOW}
        )
        assert (await db.next())["state"] == "not_ready"  # b is not held up by a's pop
        gate.set()
        first, second = await da.next(), await da.next()
    assert (first["type"], second["type"]) == ("pop", "agent")
    assert second["seq"] == first["seq"] + 1


async def test_given_an_agent_on_a_call_then_calls_and_files_follow_ownership(world: World) -> None:
    a = world.ids["a"]
    ta, tb = await login(world.http, "agent01"), await login(world.http, "agent02")
    await add_call(world.services, "1900000001.1", agent_id=a, agents=["1001"])
    r = await world.http.get("/api/calls/1900000001.1", headers=bearer(tb))
    assert r.status_code == 403
    r = await world.http.get("/api/calls/1900000001.1", headers=bearer(ta))
    assert r.status_code == 200
    mine = await world.http.get("/api/calls", headers=bearer(ta))
    assert [c["linkedid"] for c in mine.json()] == ["1900000001.1"]
    theirs = await world.http.get("/api/calls", headers=bearer(tb))
    assert theirs.json() == []
    since = dt.datetime.fromtimestamp(NOW - 3600, dt.UTC).isoformat()
    r = await world.http.get("/api/calls", params={"from": since}, headers=bearer(ta))
    assert r.status_code == 200
