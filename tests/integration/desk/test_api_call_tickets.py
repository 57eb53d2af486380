"""Tickets raised from a call on the desktop: created through the ticket service, linked
to the call row (ticket_calls), changed later from the same call."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import select

from db.models import Disposition, Role, Ticket, TicketCall, TicketEvent
from hotline.http import create_app
from hotline.services import Services
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
LINKEDID = "1900000100.5"


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    async with api_services(db_url) as services:
        a = await add_user(services, "agent01", Role.AGENT, "1001", display_name="李娜")
        await add_user(services, "agent02", Role.AGENT, "1002")
        zhang = await add_customer(services, "张伟", "13912345678", tier="A")
        call = await add_call(
            services,
            LINKEDID,
            caller="13912345678",
            customer_id=zhang.id,
            agent_id=a.id,
            agents=["1001"],
            disposition=Disposition.IN_PROGRESS,
        )
        assert call.id is not None
        assert zhang.id is not None
        async with api_client(create_app(services)) as client:
            yield services, client, {"call": call.id, "zhang": zhang.id}


TICKET = {
    "category": "repair",
    "subject": "燃气泄漏报修 / gas leak",
    "description": "客户报告厨房有燃气味",
    "priority": "urgent",
}


async def test_given_a_call_when_the_agent_creates_a_ticket_then_it_is_linked_to_the_call(
    world: World,
) -> None:
    services, client, ids = world
    token = await login(client, "agent01")
    r = await client.post(f"/api/calls/{LINKEDID}/tickets", json=TICKET, headers=bearer(token))
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["number"].startswith("GD")
    assert (ticket["category"], ticket["priority"], ticket["department"]) == (
        "repair",
        "urgent",
        "repair_crew",
    )
    # Defaults from the call: the customer and the number (masked to the agent).
    assert (ticket["customer_id"], ticket["contact_number"]) == (ids["zhang"], "139****5678")
    async with services.sessions() as s:
        stored = await s.get(Ticket, ticket["id"])
        assert stored is not None
        assert stored.contact_number == "13912345678"
        link = (await s.exec(select(TicketCall).where(TicketCall.ticket_id == ticket["id"]))).one()
        trail = (
            await s.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket["id"]))
        ).all()
    assert (link.call_id, link.relation) == (ids["call"], "created_from")
    assert trail[0].actor_name == "李娜"
    listed = await client.get(f"/api/calls/{LINKEDID}/tickets", headers=bearer(token))
    assert [(t["id"], t["relation"]) for t in listed.json()] == [(ticket["id"], "created_from")]

    r = await client.patch(
        f"/api/calls/{LINKEDID}/tickets/{ticket['id']}",
        json={"description": "厨房和阳台都有燃气味"},
        headers=bearer(token),
    )
    assert r.status_code == 200
    assert r.json()["description"] == "厨房和阳台都有燃气味"


async def test_given_an_open_ticket_when_the_customer_calls_again_then_the_call_is_linked_to_it(
    world: World,
) -> None:
    _, client, _ = world
    token = await login(client, "agent01")
    first = (
        await client.post(f"/api/calls/{LINKEDID}/tickets", json=TICKET, headers=bearer(token))
    ).json()
    again = await client.post(f"/api/calls/{LINKEDID}/tickets", json=TICKET, headers=bearer(token))
    assert again.status_code == 201
    assert (again.json()["id"], again.json()["created"]) == (first["id"], False)


async def test_given_bad_input_then_4xx_with_messages(world: World) -> None:
    _, client, _ = world
    token = await login(client, "agent01")
    r = await client.post(
        f"/api/calls/{LINKEDID}/tickets", json={**TICKET, "category": "nope"}, headers=bearer(token)
    )
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_ticket"
    assert "nope" in r.json()["message"]
    r = await client.post("/api/calls/404.1/tickets", json=TICKET, headers=bearer(token))
    assert (r.status_code, r.json()["message"]) == (404, "no call 404.1")
    r = await client.patch(
        f"/api/calls/{LINKEDID}/tickets/77", json={"subject": "x"}, headers=bearer(token)
    )
    assert r.status_code == 404
    assert "not linked" in r.json()["message"]
    r = await client.post(
        f"/api/calls/{LINKEDID}/tickets", json={"subject": "x"}, headers=bearer(token)
    )
    assert r.status_code == 422
    assert r.json()["message"].startswith("invalid request: category: Field required")


async def test_given_another_agents_call_then_no_ticket_from_it(world: World) -> None:
    _, client, _ = world
    token = await login(client, "agent02")
    r = await client.post(f"/api/calls/{LINKEDID}/tickets", json=TICKET, headers=bearer(token))
    assert r.status_code == 403
    assert r.json()["message"] == "this call was not offered to you"


async def test_given_live_calls_then_agents_see_theirs_and_supervisors_all(world: World) -> None:
    services, client, _ = world
    await add_call(services, "1900000200.1", disposition=Disposition.IN_PROGRESS)
    await add_user(services, "supervisor", Role.SUPERVISOR, "1901")
    mine = await client.get("/api/calls/live", headers=bearer(await login(client, "agent01")))
    every = await client.get("/api/calls/live", headers=bearer(await login(client, "supervisor")))
    assert [c["linkedid"] for c in mine.json()] == [LINKEDID]
    assert sorted(c["linkedid"] for c in every.json()) == sorted([LINKEDID, "1900000200.1"])


async def test_given_the_masked_caller_number_from_the_pop_then_the_full_number_is_kept(
    world: World,
) -> None:
    """The desk pre-fills the contact with the caller's number as the agent sees it
    (masked): it stands for the caller's full number."""
    services, client, _ = world
    token = await login(client, "agent01")
    body = {**TICKET, "contact_number": "139****5678"}
    r = await client.post(f"/api/calls/{LINKEDID}/tickets", json=body, headers=bearer(token))
    assert r.status_code == 201, r.text
    assert r.json()["contact_number"] == "139****5678"
    async with services.sessions() as s:
        stored = await s.get(Ticket, r.json()["id"])
    assert stored is not None
    assert stored.contact_number == "13912345678"
