"""One customer's personal data on request (privacy/service.py via /api/privacy): the
export holds the file, phones, calls, tickets, surveys, callbacks and follow-ups; the
erasure pseudonymises the person, masks their numbers in history rows, cancels what
would still call them, keeps every ticket's trail untouched, is audited and idempotent.
SQLite and PostgreSQL (the history tables' guards are live on both)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from db.models import (
    Call,
    CallbackRequest,
    Customer,
    CustomerPhone,
    Direction,
    FollowUp,
    PhoneKind,
    Role,
    Survey,
    SurveyMethod,
    Ticket,
    TicketEvent,
    TicketState,
)
from hotline.http import create_app
from hotline.services import Services
from kernel.audit import AUDIT
from tests.harness.http_app import (
    add_call,
    add_customer,
    add_user,
    api_client,
    api_services,
    bearer,
    login,
)

pytestmark = pytest.mark.integration
MOBILE, HOME = "13912345678", "057188001234"


@dataclass
class World:
    services: Services
    client: httpx.AsyncClient
    customer_id: int
    other_id: int
    ticket_id: int


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    async with api_services(db_url) as services:
        await add_user(services, "admin", Role.ADMIN)
        await add_user(services, "supervisor", Role.SUPERVISOR)
        zhang = await add_customer(services, "张伟", MOBILE, account="1000000018")
        other = await add_customer(services, "李雷", "13800001111", account="1000000026")
        assert zhang.id is not None
        assert other.id is not None
        now = services.clock.now()
        inbound = await add_call(services, "1900000001.1", caller=MOBILE, customer_id=zhang.id)
        unlinked = await add_call(services, "1900000002.1", caller=HOME)  # before it was known
        async with services.sessions() as s:
            s.add(CustomerPhone(customer_id=zhang.id, number=HOME, kind=PhoneKind.LANDLINE))
            s.add(
                Call(
                    linkedid="1900000003.1",
                    direction=Direction.OUTBOUND,
                    caller_number=MOBILE,
                    dialed_number=MOBILE,
                    started_at=now,
                    customer_id=zhang.id,
                )
            )
            ticket = Ticket(
                number="GD20261204-000001",
                category="repair",
                department="repair_crew",
                customer_id=zhang.id,
                subject="燃气表漏气",
                description=f"客户张伟，回电 {MOBILE}，地址滨江区人民路1号",
                contact_name="张伟",
                contact_number=MOBILE,
                state=TicketState.IN_PROGRESS,
            )
            s.add(ticket)
            await s.flush()
            assert ticket.id is not None
            s.add(
                TicketEvent(
                    ticket_id=ticket.id,
                    action="created",
                    note=f"来电 {MOBILE}",
                    data={"by": "1001"},
                )
            )
            s.add(
                Survey(
                    customer_id=zhang.id,
                    method=SurveyMethod.PHONE,
                    rating=2,
                    comments=f"请打 {MOBILE}",
                    call_id=inbound.id,
                )
            )
            s.add(
                CallbackRequest(
                    number=MOBILE,
                    customer_id=zhang.id,
                    skill="billing",
                    original_enqueued_at=now,
                    origin_call_id=unlinked.id,
                )
            )
            s.add(
                FollowUp(
                    ticket_id=ticket.id,
                    customer_id=zhang.id,
                    number=MOBILE,
                    due_at=now + dt.timedelta(days=1),
                )
            )
            await s.commit()
            ticket_id = ticket.id
        async with api_client(create_app(services)) as client:
            yield World(services, client, zhang.id, other.id, ticket_id)


async def test_given_an_admin_when_exporting_then_everything_held_about_the_person(
    world: World,
) -> None:
    token = bearer(await login(world.client, "admin"))
    r = await world.client.get(f"/api/privacy/customers/{world.customer_id}/export", headers=token)
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].startswith("attachment;")
    doc = r.json()
    assert doc["customer"]["name"] == "张伟"
    assert sorted(p["number"] for p in doc["customer"]["phones"]) == [HOME, MOBILE]
    assert sorted(c["linkedid"] for c in doc["calls"]) == ["1900000001.1", "1900000003.1"]
    assert [t["number"] for t in doc["tickets"]] == ["GD20261204-000001"]
    assert [s["rating"] for s in doc["surveys"]] == [2]
    assert [c["number"] for c in doc["callbacks"]] == [MOBILE]
    assert [f["number"] for f in doc["follow_ups"]] == [MOBILE]
    assert doc["erased_at"] is None
    async with world.services.engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(AUDIT.c.actor_name, AUDIT.c.object_id, AUDIT.c.detail).where(
                    AUDIT.c.action == "customer.exported"
                )
            )
        ).one()
    assert (row.actor_name, row.object_id) == ("admin", str(world.customer_id))
    assert row.detail["calls"] == 2


async def test_given_an_erasure_then_the_person_is_pseudonymised_and_the_trail_kept(
    world: World,
) -> None:
    token = bearer(await login(world.client, "admin"))
    url = f"/api/privacy/customers/{world.customer_id}/erase"
    async with world.services.engine.connect() as conn:
        events_before = (await conn.execute(sa.select(TicketEvent.__table__))).all()  # type: ignore[attr-defined]
    pin = f"/api/privacy/customers/{world.customer_id}/pin"
    assert (await world.client.put(pin, json={"pin": "2468"}, headers=token)).status_code == 200
    r = await world.client.post(url, json={"reason": "PIPL 删除请求 #2026-12"}, headers=token)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["already_erased"] is False
    assert out["phones_removed"] == 2
    assert out["calls_masked"] == 3  # the two of the file and the one from its landline
    async with world.services.sessions() as s:
        customer = await s.get(Customer, world.customer_id)
        assert customer is not None
        assert customer.name == f"已删除客户 #{world.customer_id}"
        assert (customer.address, customer.postcode, customer.notes) == ("", "", None)
        assert customer.pin_hash is None  # the IVR PIN goes with the person
        assert customer.account_number == "1000000018"  # the supply point's, billing keeps it
        phones = (
            await s.exec(
                select(CustomerPhone).where(CustomerPhone.customer_id == world.customer_id)
            )
        ).all()
        assert phones == []
        calls = (await s.exec(select(Call).order_by(Call.linkedid))).all()
        assert [c.caller_number for c in calls] == ["139****5678", "057*****1234", "139****5678"]
        assert calls[2].dialed_number == "139****5678"
        ticket = await s.get(Ticket, world.ticket_id)
        assert ticket is not None
        assert ticket.contact_number == "139****5678"
        assert ticket.contact_name == f"已删除客户 #{world.customer_id}"
        assert MOBILE not in ticket.description
        survey = (await s.exec(select(Survey))).one()
        assert survey.comments == "请打 139****5678"
        callback = (await s.exec(select(CallbackRequest))).one()
        assert (callback.number, callback.state) == ("139****5678", "cancelled")
        follow_up = (await s.exec(select(FollowUp))).one()
        assert (follow_up.number, follow_up.state) == ("139****5678", "cancelled")
        other = await s.get(Customer, world.other_id)
        assert other is not None
        assert other.name == "李雷"  # nobody else touched
    async with world.services.engine.connect() as conn:
        events_after = (await conn.execute(sa.select(TicketEvent.__table__))).all()  # type: ignore[attr-defined]
        erased = (
            await conn.execute(
                sa.select(AUDIT.c.actor_name, AUDIT.c.detail).where(
                    AUDIT.c.action == "customer.erased"
                )
            )
        ).all()
    assert events_after == events_before  # the ticket's trail is append-only and kept
    assert [(e.actor_name, e.detail["reason"]) for e in erased] == [
        ("admin", "PIPL 删除请求 #2026-12")
    ]

    again = await world.client.post(url, json={"reason": "重复请求"}, headers=token)
    assert again.status_code == 200
    assert again.json()["already_erased"] is True
    assert again.json()["erased_at"] == out["erased_at"]
    export = await world.client.get(
        f"/api/privacy/customers/{world.customer_id}/export", headers=token
    )
    doc = export.json()
    assert doc["erased_at"] is not None
    assert MOBILE not in json.dumps(doc, ensure_ascii=False)
    assert "张伟" not in json.dumps(doc["customer"], ensure_ascii=False)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("POST", "/api/privacy/customers/999999/erase", {"reason": "x"}, 404, "not_found"),
        ("GET", "/api/privacy/customers/999999/export", None, 404, "not_found"),
        ("POST", "/api/privacy/customers/1/erase", {"reason": ""}, 422, None),
        ("POST", "/api/privacy/customers/1/erase", {}, 422, None),
        ("GET", "/api/privacy/customers/0/export", None, 422, None),
    ],
)
async def test_given_bad_requests_then_clear_errors(
    world: World, method: str, path: str, body: object, status: int, error: str | None
) -> None:
    token = bearer(await login(world.client, "admin"))
    r = await world.client.request(method, path, json=body, headers=token)
    assert r.status_code == status, r.text
    assert r.json()["message"]
    if error:
        assert r.json()["error"] == error
