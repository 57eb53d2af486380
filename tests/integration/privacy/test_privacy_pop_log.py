"""The screen-pop and the server log of a call carry no full phone number (privacy):
a real uvicorn serving create_app, a desktop on the websocket, the router's offer on the
bus. The agent's pop (caller, file, history, call frames) is masked; a supervisor taking
calls at the desk gets full numbers, audited; and the log line the pop path writes about
the caller (a file not loaded in time) names the number masked."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from db.models import Role
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
    desk,
    login,
)
from tests.support import eventually

pytestmark = pytest.mark.integration
NOW = 1_900_000_000.0
MOBILE = "13912345678"


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


def offer(agent_id: int, call_id: str, caller: str = MOBILE, **extra: Any) -> dict[str, Any]:
    call = {
        "call_id": call_id,
        "caller_number": caller,
        "dialed_number": "95777",
        "ivr_path": ["main"],
        "ivr_outcome": "queue",
        "ivr_facts": f"callback={caller}",
        "skill": "billing",
        "disposition": "in_progress",
        "agents": [],
        "queued_at": NOW - 5,
        **extra,
    }
    return {
        "type": "offer",
        "agent_id": agent_id,
        "extension": "1001",
        "call_id": call_id,
        "skill": "billing",
        "wait_seconds": 5.0,
        "kind": "inbound",
        "call": call,
    }


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[tuple[Services, str, httpx.AsyncClient, Any]]:
    async with api_services(db_url, clock=FakeClock(NOW)) as services:
        await add_user(services, "agent01", Role.AGENT, "1001")
        await add_user(services, "supervisor", Role.SUPERVISOR, "1901")
        zhang = await add_customer(services, "张伟", MOBILE, account="1000000018")
        await add_call(services, "1899999000.7", customer_id=zhang.id, caller=MOBILE)
        app = create_app(services)
        async with api_server(app) as base, httpx.AsyncClient(base_url=base) as http:
            yield services, base, http, app


async def test_given_an_agent_then_the_pop_and_call_frames_carry_no_full_number(
    world: tuple[Services, str, httpx.AsyncClient, Any],
) -> None:
    services, base, http, _ = world
    token = await login(http, "agent01")
    async with desk(base, token=token) as d:
        agent_id = d.hello["user"]["id"]
        await services.bus.publish("offer", offer(agent_id, "1900000000.1"))
        pop = await d.next_of("pop")
        await services.bus.publish(
            "call",
            {
                "type": "call.answered",
                "call_id": "1900000000.1",
                "agent": "1001",
                "call": {"caller_number": MOBILE, "agents": ["1001"]},
            },
        )
        frame = await d.next_of("call")
    assert pop["pop"]["customer"]["name"] == "张伟"
    assert pop["pop"]["caller"]["number"] == "139****5678"
    assert [f["value"] for f in pop["pop"]["ivr"]["facts"]] == ["139****5678"]
    for sent in (pop, frame):
        assert MOBILE not in json.dumps(sent, ensure_ascii=False)


async def test_given_a_supervisor_at_the_desk_then_full_numbers_and_the_display_is_audited(
    world: tuple[Services, str, httpx.AsyncClient, Any],
) -> None:
    services, base, http, _ = world
    token = await login(http, "supervisor")
    async with desk(base, token=token) as d:
        user_id = d.hello["user"]["id"]
        await services.bus.publish("offer", offer(user_id, "1900000000.2"))
        pop = await d.next_of("pop")
    assert pop["pop"]["caller"]["number"] == MOBILE

    async def audited() -> bool:
        async with services.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(AUDIT.c.actor_name, AUDIT.c.object_id).where(
                    AUDIT.c.action == "customer.number_shown"
                )
            )
            return ("supervisor", "1900000000.2") in [tuple(r) for r in rows]

    await eventually(audited, 10, "the full numbers on the pop in audit_log")


async def test_given_a_call_whose_file_is_late_then_the_log_names_the_caller_masked(
    world: tuple[Services, str, httpx.AsyncClient, Any], caplog: pytest.LogCaptureFixture
) -> None:
    services, base, http, app = world
    app.state.hub.builder.load_timeout = 0.0  # the file is never in time: a partial pop
    token = await login(http, "agent01")
    with caplog.at_level(logging.INFO):
        async with desk(base, token=token) as d:
            agent_id = d.hello["user"]["id"]
            await services.bus.publish(
                "offer", offer(agent_id, "1900000000.3", caller="13700001111")
            )
            pop = await d.next_of("pop")
    assert pop["pop"]["partial"] is True
    late = [r.getMessage() for r in caplog.records if "not loaded in time" in r.getMessage()]
    assert late
    assert all("137****1111" in m for m in late), late
    assert "13700001111" not in caplog.text
    assert MOBILE not in caplog.text
