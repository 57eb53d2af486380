"""The workbench's API through create_app (SQLite and PostgreSQL): a department's list
by default, "mine", every filter (category, priority, state, SLA state as the clock runs,
customer, district, created dates), masked numbers for all but admins, and the
work-order sheet with history, linked calls and their recordings."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from db.models import Role, User, metadata
from hotline.http import create_app
from hotline.services import Services
from kernel.clock import FakeClock
from tests.harness.http_app import (
    add_call,
    add_customer,
    add_user,
    api_client,
    api_services,
    bearer,
    issuer_for,
)

pytestmark = pytest.mark.integration
AUDIT = metadata.tables["audit_log"]
START = dt.datetime(2026, 11, 18, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai


@dataclass
class World:
    services: Services
    clock: FakeClock
    client: httpx.AsyncClient
    users: dict[str, User]

    @property
    def h(self) -> dict[str, dict[str, str]]:
        """Fresh tokens (the tests move the clock past a token's lifetime)."""
        return {k: headers_for(self.services, u) for k, u in self.users.items()}


def headers_for(services: Services, user: User) -> dict[str, str]:
    token, _ = issuer_for(services).issue(
        user_id=user.id or 0,
        username=user.username,
        display_name=user.display_name,
        role=user.role.value,
        extension=user.extension,
    )
    return bearer(token)


async def set_department(services: Services, user: User, department: str) -> None:
    async with services.sessions() as s:
        row = await s.get(User, user.id)
        assert row is not None
        row.department = department
        s.add(row)
        await s.commit()


@pytest.fixture
async def world(db_url: str, tmp_path: Any) -> AsyncIterator[World]:
    clock = FakeClock(START)
    env = {"HOTLINE_ATTACHMENTS__ROOT": str(tmp_path / "attachments")}
    async with api_services(db_url, clock=clock, env=env) as services:
        users = {
            "repair": await add_user(services, "repair01", Role.AGENT, display_name="王师傅"),
            "office": await add_user(services, "office01", Role.AGENT, display_name="李会计"),
            "admin": await add_user(services, "admin01", Role.ADMIN),
        }
        await set_department(services, users["repair"], "repair_crew")
        await set_department(services, users["office"], "business_office")
        async with api_client(create_app(services)) as client:
            yield World(services, clock, client, users)


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def new_ticket(w: World, **body: Any) -> dict[str, Any]:
    base = {"category": "repair", "subject": "燃气表漏气", "detect_repeat": False}
    created = await ok(
        await w.client.post("/api/tickets", json=base | body, headers=w.h["admin"]), 201
    )
    ticket: dict[str, Any] = created["ticket"]
    return ticket


async def numbers(w: World, who: str = "repair", **params: Any) -> list[str]:
    body = await ok(await w.client.get("/api/workbench/tickets", params=params, headers=w.h[who]))
    return [item["number"] for item in body["items"]]


async def test_given_a_clerk_then_the_list_is_their_departments_and_mine_is_theirs(
    world: World,
) -> None:
    w = world
    repair = await new_ticket(w)
    billing = await new_ticket(w, category="billing_dispute", subject="账单有误")
    body = await ok(await w.client.get("/api/workbench/tickets", headers=w.h["repair"]))
    assert body["department"] == "repair_crew"
    assert [i["number"] for i in body["items"]] == [repair["number"]]
    assert await numbers(w, "office") == [billing["number"]]
    assert await numbers(w, scope="all") == [billing["number"], repair["number"]]
    assert await numbers(w, scope="mine") == []
    assert await numbers(w, scope="unassigned") == [repair["number"]]
    me = w.users["repair"].id
    await ok(
        await w.client.post(
            f"/api/tickets/{repair['id']}/assign", json={"assignee_id": me}, headers=w.h["repair"]
        )
    )
    mine = await ok(
        await w.client.get(
            "/api/workbench/tickets", params={"scope": "mine"}, headers=w.h["repair"]
        )
    )
    assert [(i["number"], i["assignee_name"], i["state"]) for i in mine["items"]] == [
        (repair["number"], "王师傅", "assigned")
    ]
    assert await numbers(w, scope="unassigned") == []
    assert await numbers(w, department="business_office") == [billing["number"]]


async def test_given_filters_then_each_narrows_the_list_server_side(world: World) -> None:
    w = world
    east = await add_customer(w.services, "张三", "13912345678", district="滨江区")
    west = await add_customer(w.services, "李四", "13800001111", district="西湖区")
    a = await new_ticket(w, customer_id=east.id, priority="urgent", subject="户内漏气")
    b = await new_ticket(w, customer_id=west.id, contact_number="13800001111", subject="表不走")
    c = await new_ticket(w, contact_name="赵六", contact_number="02161234567", subject="管道异响")
    d = await new_ticket(w, category="business_request", subject="过户", department="repair_crew")
    assert await numbers(w, category="repair") == [c["number"], b["number"], a["number"]]
    assert await numbers(w, category=["business_request", "repair"]) == [
        d["number"],
        c["number"],
        b["number"],
        a["number"],
    ]
    assert await numbers(w, priority="urgent") == [a["number"]]
    assert await numbers(w, customer="张") == [a["number"]]
    assert await numbers(w, customer="赵六") == [c["number"]]
    assert await numbers(w, customer="138 0000 1111") == [b["number"]]
    assert await numbers(w, customer=east.account_number) == [a["number"]]
    assert await numbers(w, district="西湖区") == [b["number"]]
    assert await numbers(w, customer="100%_") == []
    zone = zoneinfo.ZoneInfo(w.services.settings.center.timezone)
    today = START.astimezone(zone).date()
    assert len(await numbers(w, created_from=str(today), created_to=str(today))) == 4
    assert await numbers(w, created_from=str(today + dt.timedelta(days=1))) == []
    assert await numbers(w, created_to=str(today - dt.timedelta(days=1))) == []
    await ok(
        await w.client.post(
            f"/api/tickets/{a['id']}/transition",
            json={"to": "resolve", "resolution": "已修复"},
            headers=w.h["repair"],
        )
    )
    assert await numbers(w, state="resolved") == [a["number"]]
    assert await numbers(w, state=["new", "assigned"], category="repair") == [
        c["number"],
        b["number"],
    ]
    bad = await w.client.get(
        "/api/workbench/tickets",
        params={"created_from": str(today), "created_to": str(today - dt.timedelta(days=2))},
        headers=w.h["repair"],
    )
    assert bad.status_code == 422
    assert bad.json()["error"] == "invalid_filter"


async def test_given_the_clock_running_then_sla_state_moves_on_time_warning_breached(
    world: World,
) -> None:
    w = world
    urgent = await new_ticket(w, priority="urgent")  # response due in 15 min, warned at 12
    normal = await new_ticket(w)  # response due in 2 h
    items = (await ok(await w.client.get("/api/workbench/tickets", headers=w.h["repair"])))["items"]
    first = {i["number"]: i for i in items}[urgent["number"]]
    assert first["sla_state"] == "on_time"
    assert first["sla_clock"] == "response"
    assert dt.datetime.fromisoformat(first["sla_due_at"]) == START + dt.timedelta(minutes=15)
    assert await numbers(w, sla="on_time") == [normal["number"], urgent["number"]]
    w.clock.advance(13 * 60)
    assert await numbers(w, sla="warning") == [urgent["number"]]
    assert await numbers(w, sla="on_time") == [normal["number"]]
    assert await numbers(w, sla="breached") == []
    w.clock.advance(5 * 60)
    assert await numbers(w, sla="breached") == [urgent["number"]]
    assert await numbers(w, sla=["warning", "breached"]) == [urgent["number"]]
    # Working on it stops the response clock: the countdown moves to the resolution clock.
    await ok(
        await w.client.post(
            f"/api/tickets/{normal['id']}/transition", json={"to": "start"}, headers=w.h["repair"]
        )
    )
    sheet = await ok(
        await w.client.get(f"/api/workbench/tickets/{normal['id']}", headers=w.h["repair"])
    )
    assert sheet["ticket"]["sla_clock"] == "resolution"
    assert sheet["ticket"]["sla_state"] == "on_time"


async def test_given_an_agent_then_numbers_are_masked_and_an_admin_sees_them(world: World) -> None:
    w = world
    customer = await add_customer(w.services, "张三", "13912345678", district="滨江区")
    t = await new_ticket(
        w, customer_id=customer.id, contact_number="13912345678", description="回电 13912345678"
    )
    call = await add_call(w.services, "1763.77", caller="13912345678", customer_id=customer.id)
    await ok(
        await w.client.post(
            f"/api/tickets/{t['id']}/calls", json={"linkedid": call.linkedid}, headers=w.h["admin"]
        )
    )
    listed = await ok(await w.client.get("/api/workbench/tickets", headers=w.h["repair"]))
    sheet = await ok(await w.client.get(f"/api/workbench/tickets/{t['id']}", headers=w.h["repair"]))
    for text in (str(listed), str(sheet)):
        assert "13912345678" not in text
    assert listed["items"][0]["contact_number"] == "139****5678"
    assert sheet["calls"][0]["caller_number"] == "139****5678"
    assert sheet["description"] == "回电 139****5678"
    # privacy.full_number_roles (supervisor, admin by default) see it, and that is audited.
    full = await ok(await w.client.get(f"/api/workbench/tickets/{t['id']}", headers=w.h["admin"]))
    assert full["ticket"]["contact_number"] == "13912345678"
    assert full["calls"][0]["caller_number"] == "13912345678"
    listed = await ok(await w.client.get("/api/workbench/tickets", headers=w.h["admin"]))
    assert listed["items"][0]["contact_number"] == "13912345678"
    async with w.services.engine.connect() as conn:
        shown = (
            await conn.execute(
                sa.select(AUDIT.c.actor_name, AUDIT.c.object_type, AUDIT.c.object_id)
                .where(AUDIT.c.action == "customer.number_shown")
                .order_by(AUDIT.c.id)
            )
        ).all()
    assert [tuple(r) for r in shown] == [
        ("admin01", "ticket", str(t["id"])),
        ("admin01", "ticket", "list"),
    ]
    context = await ok(await w.client.get("/api/workbench/context", headers=w.h["repair"]))
    assert context["masked"] is True
    assert context["me"]["department"] == "repair_crew"
    assert {"name": "repair_crew", "label": {"zh": "抢修科", "en": "Repair crew"}} in context[
        "departments"
    ]


async def test_given_a_ticket_with_a_recorded_call_then_the_sheet_has_history_calls_and_recordings(
    world: World,
) -> None:
    w = world
    t = await new_ticket(w, linkedid=None)
    call = await add_call(w.services, "1763.88", agent_id=w.users["repair"].id)
    now = w.clock.now()
    async with w.services.engine.begin() as conn:
        await conn.execute(
            sa.insert(metadata.tables["recordings"]).values(
                id=41,
                call_id=call.id,
                linkedid=call.linkedid,
                agent_id=w.users["repair"].id,
                path="r/41.wav",
                state="completed",
                started_at=now,
                ended_at=now,
                duration_seconds=12.5,
                size_bytes=100,
                created_at=now,
            )
        )
    await ok(
        await w.client.post(
            f"/api/tickets/{t['id']}/calls", json={"linkedid": call.linkedid}, headers=w.h["repair"]
        )
    )
    await ok(
        await w.client.post(
            f"/api/tickets/{t['id']}/notes", json={"text": "已派车"}, headers=w.h["repair"]
        )
    )
    sheet = await ok(await w.client.get(f"/api/workbench/tickets/{t['id']}", headers=w.h["repair"]))
    assert [e["action"] for e in sheet["history"]] == ["created", "linked_call", "commented"]
    assert sheet["history"][-1]["note"] == "已派车"
    [linked] = sheet["calls"]
    assert linked["linkedid"] == "1763.88"
    # Agents hear their own calls only when recording.agents_play_own is set.
    playable = w.services.settings.recording.agents_play_own
    assert linked["recordings"] == [
        {"id": 41, "duration_seconds": 12.5, "state": "completed", "playable": playable}
    ]
    admin = await ok(await w.client.get(f"/api/workbench/tickets/{t['id']}", headers=w.h["admin"]))
    assert admin["calls"][0]["recordings"][0]["playable"] is True
    assert set(sheet["actions"]) == {"assign", "start", "resolve", "transfer"}
    missing = await w.client.get("/api/workbench/tickets/999999", headers=w.h["repair"])
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
