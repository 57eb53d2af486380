"""Numbers masked by role through the real app (create_app): an agent's answers from the
customer file, search, call lists, one call and call control carry no full phone number;
a supervisor (privacy.full_number_roles) sees full numbers and each display is audited;
click-to-dial goes by the file's phone index, the server looks the number up."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from db.models import CustomerPhone, Disposition, Role
from hotline.http import create_app
from hotline.services import Services
from kernel.audit import AUDIT, Actor
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
MOBILE, SECOND = "13912345678", "13900000009"


@dataclass
class FakeControl:
    """The call-control port (callcontrol/bus.py) without a PBX: records what it asked."""

    asked: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def perform(
        self, operation: str, extension: str, actor: Actor, args: dict[str, Any]
    ) -> dict[str, Any]:
        self.asked.append((operation, extension, args))
        number = args.get("number")
        return {"call_id": "1900000999.1", "state": "dialling", "number": number}


@dataclass
class World:
    services: Services
    client: httpx.AsyncClient
    customer_id: int
    control: FakeControl


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    async with api_services(db_url) as services:
        agent = await add_user(services, "agent01", Role.AGENT, "1001")
        await add_user(services, "supervisor", Role.SUPERVISOR, "1901")
        await add_user(services, "qa01", Role.QA)
        zhang = await add_customer(services, "张伟", MOBILE, account="1000000018")
        assert zhang.id is not None
        async with services.sessions() as s:
            s.add(CustomerPhone(customer_id=zhang.id, number=SECOND, label="家属"))
            await s.commit()
        await add_call(
            services,
            "1900000001.1",
            caller=MOBILE,
            customer_id=zhang.id,
            agent_id=agent.id,
            agents=["1001"],
            disposition=Disposition.IN_PROGRESS,
        )
        app = create_app(services)
        control = FakeControl()
        async with api_client(app) as client:
            app.state.call_control = control
            yield World(services, client, zhang.id, control)


def full_numbers_in(body: Any) -> list[str]:
    text = json.dumps(body, ensure_ascii=False)
    return [n for n in (MOBILE, SECOND) if n in text]


def agent_urls(cid: int) -> list[str]:
    return [
        "/api/customers?q=张",
        f"/api/customers/{cid}",
        f"/api/customers/{cid}/calls",
        "/api/calls",
        "/api/calls/live",
        "/api/calls/1900000001.1",
        f"/api/calls?number={MOBILE}",
    ]


async def test_given_an_agent_then_no_answer_carries_a_full_phone_number(world: World) -> None:
    token = bearer(await login(world.client, "agent01"))
    for url in agent_urls(world.customer_id):
        r = await world.client.get(url, headers=token)
        assert r.status_code == 200, (url, r.text)
        assert full_numbers_in(r.json()) == [], url
    file = (await world.client.get(f"/api/customers/{world.customer_id}", headers=token)).json()
    assert [p["number"] for p in file["customer"]["phones"]] == ["139****5678", "139****0009"]
    calls = (await world.client.get("/api/calls", headers=token)).json()
    assert calls[0]["caller_number"] == "139****5678"
    # The desk asks for an unknown caller's history by the number it shows (masked).
    by_mask = await world.client.get("/api/calls?number=139****5678", headers=token)
    assert [c["linkedid"] for c in by_mask.json()] == ["1900000001.1"]
    other = await world.client.get("/api/calls?number=139****0000", headers=token)
    assert other.json() == []
    async with world.services.engine.connect() as conn:
        shown = (
            await conn.execute(
                sa.select(sa.func.count()).where(AUDIT.c.action == "customer.number_shown")
            )
        ).scalar_one()
    assert shown == 0  # nothing full was shown


async def test_given_qa_then_call_lists_are_masked_too(world: World) -> None:
    token = bearer(await login(world.client, "qa01"))
    for url in ("/api/calls", "/api/calls/live", "/api/calls/1900000001.1"):
        r = await world.client.get(url, headers=token)
        assert r.status_code == 200, r.text
        assert full_numbers_in(r.json()) == [], url


async def test_given_a_supervisor_then_full_numbers_and_each_display_is_audited(
    world: World,
) -> None:
    token = bearer(await login(world.client, "supervisor"))
    file = await world.client.get(f"/api/customers/{world.customer_id}", headers=token)
    assert [p["number"] for p in file.json()["customer"]["phones"]] == [MOBILE, SECOND]
    calls = await world.client.get("/api/calls", headers=token)
    assert calls.json()[0]["caller_number"] == MOBILE
    async with world.services.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(AUDIT.c.actor_name, AUDIT.c.object_type, AUDIT.c.object_id)
                .where(AUDIT.c.action == "customer.number_shown")
                .order_by(AUDIT.c.id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("supervisor", "customer", str(world.customer_id)),
        ("supervisor", "call", ""),
    ]


async def test_given_masking_off_then_agents_see_full_numbers(db_url: str) -> None:
    env = {"HOTLINE_PRIVACY__MASK_NUMBERS": "false"}
    async with api_services(db_url, env=env) as services:
        await add_user(services, "agent01", Role.AGENT, "1001")
        await add_customer(services, "张伟", MOBILE)
        async with api_client(create_app(services)) as client:
            token = bearer(await login(client, "agent01"))
            r = await client.get("/api/customers?q=张", headers=token)
    assert r.json()[0]["phones"] == [MOBILE]


async def test_given_an_agent_when_dialling_a_file_phone_by_index_then_the_server_dials_it(
    world: World,
) -> None:
    token = bearer(await login(world.client, "agent01"))
    r = await world.client.post(
        "/api/agent/call/dial",
        json={"customer_id": world.customer_id, "phone_index": 1, "number": "139****0009"},
        headers=token,
    )
    assert r.status_code == 200, r.text
    assert r.json()["number"] == "139****0009"  # the answer is masked too
    # By the masked number alone (the index is a hint): the one phone with that mask.
    r = await world.client.post(
        "/api/agent/call/dial",
        json={"customer_id": world.customer_id, "number": "139****5678"},
        headers=token,
    )
    assert r.status_code == 200, r.text
    dialled = [(op, ext, args["number"]) for op, ext, args in world.control.asked]
    assert dialled == [("dial", "1001", SECOND), ("dial", "1001", MOBILE)]
    assert all(a["customer_id"] == world.customer_id for _, _, a in world.control.asked)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"customer_id": 999999, "phone_index": 0}, 404),
        ({"customer_id": 1, "phone_index": 7}, 400),
        ({"phone_index": 0}, 400),
        ({"customer_id": 1, "number": "111****0000"}, 400),
    ],
)
async def test_given_a_bad_dial_reference_then_a_clear_error(
    world: World, body: dict[str, Any], status: int
) -> None:
    token = bearer(await login(world.client, "agent01"))
    r = await world.client.post("/api/agent/call/dial", json=body, headers=token)
    assert r.status_code == status, r.text
    assert r.json()["error"]
    assert r.json()["message"]
    assert world.control.asked == []
