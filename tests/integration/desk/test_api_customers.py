"""Customer search (phone, account, Chinese and Latin names) and the 360° file, with
every read audited; agents' access follows auth.agent_customer_access."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from db.models import Call, Disposition, Role, Survey, SurveyMethod, Ticket, TicketState
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

World = tuple[Services, httpx.AsyncClient, dict[str, int]]


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    async with api_services(db_url) as services:
        await add_user(services, "agent01", Role.AGENT, "1001")
        await add_user(services, "supervisor", Role.SUPERVISOR, "1901")
        zhang = await add_customer(
            services, "张伟", "13912345678", account="1000000018", tier="A", arrears="312.40"
        )
        wang = await add_customer(services, "王伟明", "02161234567", account="1000000026")
        smith = await add_customer(services, "John Smith", "13800001111", account="2000000001")
        family = await add_customer(services, "李雷", "13912345678", account="1000000034")
        assert None not in (zhang.id, wang.id, smith.id, family.id)
        assert zhang.id is not None
        assert wang.id is not None
        assert smith.id is not None
        async with services.sessions() as s:
            for state in (TicketState.IN_PROGRESS, TicketState.CLOSED):
                s.add(
                    Ticket(
                        number=f"GD20260101-00000{len(state)}",
                        category="repair",
                        department="repair_crew",
                        customer_id=zhang.id,
                        subject=f"燃气表 {state.value}",
                        state=state,
                    )
                )
            s.add(Survey(customer_id=zhang.id, method=SurveyMethod.IVR, rating=4))
            s.add(Survey(customer_id=zhang.id, method=SurveyMethod.PHONE, rating=5))
            await s.commit()
        now = services.clock.now()
        for i in range(3):
            await add_call(
                services,
                f"17000000{i}.1",
                customer_id=zhang.id,
                started=now - dt.timedelta(days=i + 1),
                disposition=Disposition.ANSWERED,
            )
        async with api_client(create_app(services)) as client:
            yield services, client, {"zhang": zhang.id, "wang": wang.id, "smith": smith.id}


@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("13912345678", ["张伟", "李雷"]),  # a shared family number: both
        ("+86 139 1234 5678", ["张伟", "李雷"]),
        ("5678", ["张伟", "李雷"]),  # the end of a number
        ("021-6123", ["王伟明"]),  # a landline's beginning
        ("1000000018", ["张伟"]),  # account number
        ("20000", ["John Smith"]),  # account number prefix
        ("伟", ["张伟", "王伟明"]),  # a Chinese substring
        ("smith", ["John Smith"]),  # Latin, any case
        ("100%", []),  # LIKE wildcards are literal
    ],
)
async def test_given_customers_when_searching_then_the_right_ones(
    world: World, q: str, names: list[str]
) -> None:
    _, client, _ = world
    token = await login(client, "agent01")
    r = await client.get("/api/customers", params={"q": q}, headers=bearer(token))
    assert r.status_code == 200, r.text
    assert sorted(c["name"] for c in r.json()) == sorted(names)


async def test_given_too_few_digits_when_searching_then_422_with_a_message(world: World) -> None:
    _, client, _ = world
    token = await login(client, "agent01")
    r = await client.get("/api/customers", params={"q": "13"}, headers=bearer(token))
    assert r.status_code == 422
    assert r.json()["message"] == "type at least 4 digits of a phone or account number"


async def test_given_a_customer_when_reading_the_file_then_360_view_and_an_audit_row(
    world: World,
) -> None:
    services, client, ids = world
    token = await login(client, "supervisor")
    r = await client.get(f"/api/customers/{ids['zhang']}", headers=bearer(token))
    assert r.status_code == 200
    file = r.json()
    assert file["customer"]["name"] == "张伟"
    assert file["customer"]["tier"] == "A"
    assert file["customer"]["arrears"] == "312.40"
    assert file["customer"]["phones"][0]["number"] == "13912345678"
    assert [t["state"] for t in file["open_tickets"]] == ["in_progress"]
    assert len(file["recent_tickets"]) == 2
    assert [c["linkedid"] for c in file["recent_calls"]] == [
        "170000000.1",
        "170000001.1",
        "170000002.1",
    ]
    assert file["average_rating"] == 4.5
    calls = await client.get(f"/api/customers/{ids['zhang']}/calls?limit=2", headers=bearer(token))
    assert len(calls.json()) == 2
    async with services.engine.connect() as conn:
        rows = (
            await conn.execute(sa.select(AUDIT.c.action, AUDIT.c.object_id, AUDIT.c.detail))
        ).all()
    reads = [
        (r.action, r.object_id, r.detail.get("via"))
        for r in rows
        if r.action.startswith("customer") and r.action != "customer.number_shown"
    ]
    assert reads == [
        ("customer.read", str(ids["zhang"]), "role"),
        ("customer.calls", str(ids["zhang"]), "role"),
    ]
    # A supervisor sees full numbers (privacy.full_number_roles): each display audited.
    shown = [r.object_id for r in rows if r.action == "customer.number_shown"]
    assert shown == [str(ids["zhang"])] * 2


async def test_given_no_such_customer_then_404_with_a_message(world: World) -> None:
    _, client, _ = world
    token = await login(client, "supervisor")
    r = await client.get("/api/customers/999999", headers=bearer(token))
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "message": "customer 999999 not found"}


async def test_given_an_agent_searching_then_the_search_is_audited_with_its_query(
    world: World,
) -> None:
    services, client, _ = world
    token = await login(client, "agent01")
    await client.get("/api/customers", params={"q": "伟"}, headers=bearer(token))
    async with services.engine.connect() as conn:
        row = (
            await conn.execute(sa.select(AUDIT.c.detail).where(AUDIT.c.action == "customer.search"))
        ).one()
    assert row.detail["q"] == "伟"
    assert len(row.detail["hits"]) == 2


@pytest.mark.parametrize("mode", ["on_call", "on_call_or_search"])
async def test_given_an_agent_then_a_file_opens_on_a_call_with_that_customer_or_by_search_as_configured(
    db_url: str, mode: str
) -> None:
    env = {
        "HOTLINE_AUTH__AGENT_CUSTOMER_ACCESS": mode,
        "HOTLINE_AUTH__ON_CALL_GRACE_SECONDS": "600",
    }
    async with api_services(db_url, env=env) as services:
        agent = await add_user(services, "agent01", Role.AGENT, "1001")
        await add_user(services, "agent02", Role.AGENT, "1002")
        zhang = await add_customer(services, "张伟", "13912345678")
        wang = await add_customer(services, "王伟明", "02161234567")
        assert zhang.id is not None
        assert wang.id is not None
        # agent01 talks to 张伟 now (the call log: another worker's hub never saw the offer).
        await add_call(
            services,
            "1900000100.1",
            customer_id=zhang.id,
            agent_id=agent.id,
            agents=["1001"],
            disposition=Disposition.IN_PROGRESS,
        )
        async with api_client(create_app(services)) as client:
            mine, other = await login(client, "agent01"), await login(client, "agent02")
            on_call = await client.get(f"/api/customers/{zhang.id}", headers=bearer(mine))
            assert on_call.status_code == 200, on_call.text
            # Not on a call with 王伟明, nor is agent02 with 张伟: by their own search only,
            # if allowed (privacy: a file outside a call comes from the agent's search).
            search = await client.get("/api/customers", params={"q": "伟"}, headers=bearer(other))
            await client.get("/api/customers", params={"q": "伟"}, headers=bearer(mine))
            searched = await client.get(f"/api/customers/{wang.id}", headers=bearer(mine))
            foreign = await client.get(f"/api/customers/{zhang.id}", headers=bearer(other))
            if mode == "on_call":
                for r in (searched, foreign, search):
                    assert r.status_code == 403, r.text
                    assert r.json()["message"]
            else:
                assert (searched.status_code, foreign.status_code) == (200, 200)
                assert sorted(c["name"] for c in search.json()) == ["张伟", "王伟明"]
            # After the call plus the grace window the on-call access lapses.
            async with services.sessions() as s:
                call = (await s.exec(select(Call).where(Call.linkedid == "1900000100.1"))).one()
                call.disposition = Disposition.ANSWERED
                call.ended_at = services.clock.now() - dt.timedelta(seconds=601)
                s.add(call)
                await s.commit()
            later = await client.get(f"/api/customers/{zhang.id}", headers=bearer(mine))
            assert later.status_code == (403 if mode == "on_call" else 200)
        async with services.engine.connect() as conn:
            vias = [
                (r.object_id, r.detail.get("via"))
                for r in await conn.execute(
                    sa.select(AUDIT.c.object_id, AUDIT.c.detail)
                    .where(AUDIT.c.action == "customer.read")
                    .order_by(AUDIT.c.id)
                )
            ]
        expected = [(str(zhang.id), "on_call")]
        if mode == "on_call_or_search":
            expected += [
                (str(wang.id), "search"),
                (str(zhang.id), "search"),
                (str(zhang.id), "search"),
            ]
        assert vias == expected


async def test_given_a_supervisor_then_files_are_created_updated_moved_between_tiers_and_phones_added(
    world: World,
) -> None:
    services, client, _ = world
    boss = await login(client, "supervisor")
    agent = await login(client, "agent01")
    body = {
        "name": "赵敏",
        "account_number": "1000000999",
        "district": "滨江区",
        "tier": "C",
        "phones": [
            {"number": "+86 139 0000 1234", "is_primary": True},
            {"number": "021-6123 9999"},
        ],
    }
    refused = await client.post("/api/customers", json=body, headers=bearer(agent))
    assert refused.status_code == 403
    r = await client.post("/api/customers", json=body, headers=bearer(boss))
    assert r.status_code == 201, r.text
    created = r.json()
    assert sorted(p["number"] for p in created["phones"]) == ["02161239999", "13900001234"]
    again = await client.post("/api/customers", json=body, headers=bearer(boss))
    assert again.status_code == 409
    assert "exists already" in again.json()["message"]
    cid = created["id"]
    r = await client.patch(
        f"/api/customers/{cid}",
        json={"tier": "A", "address": "滨江区江南大道1号", "reason": "大客户合同"},
        headers=bearer(boss),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["tier"], r.json()["address"]) == ("A", "滨江区江南大道1号")
    # A third number, shared with another customer's (a family line), then one removed.
    r = await client.post(
        f"/api/customers/{cid}/phones", json={"number": "13912345678"}, headers=bearer(boss)
    )
    assert r.status_code == 201, r.text
    assert len(r.json()["phones"]) == 3
    dup = await client.post(
        f"/api/customers/{cid}/phones", json={"number": "139-1234-5678"}, headers=bearer(boss)
    )
    assert dup.status_code == 409
    r = await client.delete(f"/api/customers/{cid}/phones/02161239999", headers=bearer(boss))
    assert r.status_code == 200, r.text
    assert sorted(p["number"] for p in r.json()["phones"]) == ["13900001234", "13912345678"]
    # Searching the shared number finds the new customer too; the edits are audited.
    hits = await client.get("/api/customers", params={"q": "13912345678"}, headers=bearer(boss))
    assert "赵敏" in [c["name"] for c in hits.json()]
    async with services.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(AUDIT.c.action, AUDIT.c.detail)
                .where(AUDIT.c.object_id == str(cid), AUDIT.c.action != "customer.search")
                .order_by(AUDIT.c.id)
            )
        ).all()
    actions = [r.action for r in rows]
    assert actions == [
        "customer.created",
        "customer.tier_changed",
        "customer.updated",
        "customer.phone_added",
        "customer.phone_removed",
    ]
    move = rows[1].detail
    assert (move["from"], move["to"], move["reason"]) == ("C", "A", "大客户合同")
