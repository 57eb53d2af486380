"""The agent's call controls (issue 14) through the real Runtime on the sandbox Asterisk:
hold/resume, blind transfer to an agent and to a queue, attended transfer completed and
cancelled, three-way conference, click-to-dial. Each ends with exactly one call record
that says what happened (transfers, agents, talk time per agent, hold time), its
timeline, and the audit rows. Agents are Local channels that answer by themselves.

Callers press 5 (business): agent 1001 is the only one with that skill, so the router
gives every call to 1001 first; 1002 and 1003 take what the controls send them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from devtools.services.asterisk import AsteriskInstance
from hotline.services import Services
from tests.integration.callcontrol.support import (
    AUDIT,
    CALLS,
    act,
    call_state,
    on_call,
    record,
    wait_state,
)
from tests.integration.hotline.support import (
    AsteriskSide,
    Backend,
    asterisk_side,
    fresh_redis,
    staffed_center,
)
from tests.support import eventually

pytestmark = pytest.mark.integration
AGENTS = {"1001": {"business": 8}, "1002": {"complaint": 8}, "1003": {"billing": 8}}


@contextlib.asynccontextmanager
async def center(
    asterisk: AsteriskInstance, db_url: str, redis_url: str | None = None
) -> AsyncIterator[tuple[Services, Backend, AsteriskSide]]:
    async with (
        staffed_center(asterisk, db_url, redis_url, AGENTS) as (settings, services, b),
        asterisk_side(asterisk, settings) as ast,
    ):
        yield services, b, ast


async def answered_call(b: Backend, ast: AsteriskSide, *ready: str) -> str:
    for ext in ("1001", *ready):
        await b.post("/api/agent/sign-in", f"agent{ext}", {"ready": True})
    call = await ast.call("13700000001", "ww5")  # business: agent 1001
    await on_call(b, "1001", call)
    return call


async def test_given_a_call_when_the_agent_holds_and_resumes_then_hold_time_counted(
    asterisk: AsteriskInstance, db_url: str
) -> None:
    async with center(asterisk, db_url) as (services, b, ast):
        call = await answered_call(b, ast)
        await wait_state(b, "agent1001", "talking")
        r = await b.http.post("/api/agent/call/resume", headers=await b.as_user("agent1001"))
        assert (r.status_code, r.json()["error"]) == (409, "wrong_state"), r.text
        r = await b.http.post("/api/agent/call/hold", headers=await b.as_user("agent1002"))
        assert (r.status_code, r.json()["error"]) == (409, "not_on_call"), r.text

        # Keys to the far end: Asterisk plays them; the audit row keeps only how many.
        keyed = await act(b, "agent1001", "dtmf", digits="12#")
        assert keyed["state"] == "talking"
        r = await b.http.post(
            "/api/agent/call/dtmf", json={"digits": "12x"}, headers=await b.as_user("agent1001")
        )
        assert (r.status_code, r.json()["error"]) == (422, "invalid_target"), r.text
        held = await act(b, "agent1001", "hold")
        assert held == {**held, "call_id": call, "state": "held"}
        channels = {c.uniqueid: c for c in await ast.pbx.channels()}
        assert any(c.application == "MusicOnHold" for c in channels.values())
        await asyncio.sleep(2.0)
        await act(b, "agent1001", "resume")
        assert (await call_state(b, "agent1001"))["state"] == "talking"
        await asyncio.sleep(1.0)
        await ast.hang_up(call)

        row = await record(services, call)
        assert row["hold_seconds"] >= 1.8
        assert row["transfers"] == 0
        assert row["agents"] == ["1001"]
        assert row["agent_talk"]["1001"] >= 0.8
        assert "call.held" in row["timeline"]
        assert "call.resumed" in row["timeline"]
        assert ("call.dtmf", "done") in row["audit"]
        assert ("call.hold", "done") in row["audit"]
        assert ("call.resume", "done") in row["audit"]


async def test_given_a_call_when_blind_transferred_to_an_agent_then_second_agent_gets_it(
    asterisk: AsteriskInstance, db_url: str
) -> None:
    async with center(asterisk, db_url) as (services, b, ast):
        call = await answered_call(b, ast, "1002")
        r = await b.http.post(
            "/api/agent/call/transfer",
            json={"target": "agent:1009"},
            headers=await b.as_user("agent1001"),
        )
        assert (r.status_code, r.json()["error"]) == (422, "invalid_target"), r.text
        await act(b, "agent1001", "transfer", target="agent:1002")
        await on_call(b, "1002", call)  # offered (screen-pop first), answered
        agent1001 = await b.agent("1001")
        assert agent1001["state"] in ("wrap_up", "available"), agent1001
        await asyncio.sleep(1.0)
        await ast.hang_up(call)

        row = await record(services, call)
        assert row["agents"] == ["1001", "1002"]
        assert row["transfers"] == 1
        assert set(row["agent_talk"]) == {"1001", "1002"}
        assert row["timeline"].count("call.transferred") == 1
        assert ("call.transfer", "done") in row["audit"]


async def test_given_a_call_when_transferred_to_a_queue_then_it_waits_with_its_priority(
    asterisk: AsteriskInstance, db_url: str
) -> None:
    async with center(asterisk, db_url) as (services, b, ast):
        call = await answered_call(b, ast)
        routing = services.features.routing
        assert routing is not None
        before = routing.ctx.live.get(call).snapshot.get("priority")
        await act(b, "agent1001", "transfer", target="queue:complaint")

        waiting: list[dict[str, Any]] = []

        async def queued() -> bool:
            waiting[:] = [c for c in routing.waiting_calls("complaint") if c["call_id"] == call]
            return bool(waiting)

        await eventually(queued, 20, "the caller waiting in complaint")
        expected = routing.router.plan.priority("complaint", tier=None, given=before)
        assert waiting[0]["priority"] == expected
        await b.post("/api/agent/sign-in", "agent1002", {"ready": True})
        await on_call(b, "1002", call)
        await ast.hang_up(call)

        row = await record(services, call)
        assert row["agents"] == ["1001", "1002"]
        assert row["transfers"] == 1
        assert row["priority"] == (before or 0)


@pytest.mark.parametrize("outcome", ["complete", "cancel"])
async def test_given_a_consultation_when_completed_or_cancelled_then_one_record_says_so(
    asterisk: AsteriskInstance, db_url: str, outcome: str
) -> None:
    async with center(asterisk, db_url) as (services, b, ast):
        call = await answered_call(b, ast, "1002")
        await act(b, "agent1001", "consult", target="1002")
        consulting = await wait_state(b, "agent1001", "consulting")

        async def answered() -> bool:
            return (await call_state(b, "agent1001")).get("consulting") == "1002"

        await eventually(answered, 20, f"1002 answered the consultation ({consulting})")
        await act(b, "agent1001", outcome)
        if outcome == "complete":
            await on_call(b, "1002", call)
            # The router may count 1002 on the call while the caller's channel is still
            # moving into 1002's bridge (a Redirect returns before it lands): wait for it.
            await wait_state(b, "agent1002", "talking")
            await wait_state(b, "agent1001", "idle")
        else:
            assert (await call_state(b, "agent1001"))["state"] == "talking"
        await asyncio.sleep(1.0)
        await ast.hang_up(call)

        row = await record(services, call)
        assert "call.consulting" in row["timeline"]
        if outcome == "complete":
            assert row["agents"] == ["1001", "1002"]
            assert row["transfers"] == 1
            assert row["agent_talk"]["1002"] >= 0.8
            assert row["hold_seconds"] > 0
        else:
            assert row["agents"] == ["1001"]
            assert row["transfers"] == 0
        assert (f"call.{outcome}", "done") in row["audit"]


async def test_given_a_call_when_a_third_agent_joins_then_conference_and_one_record(
    asterisk: AsteriskInstance, db_url: str
) -> None:
    async with center(asterisk, db_url) as (services, b, ast):
        call = await answered_call(b, ast, "1003")
        await act(b, "agent1001", "conference", target="1003")
        seen: dict[str, Any] = {}

        async def three() -> bool:
            seen.update(await call_state(b, "agent1001"))
            return seen.get("state") == "conference" and seen.get("conference") == ["1003"]

        await eventually(three, 20, f"three on the call ({seen})")
        await asyncio.sleep(1.0)
        await act(b, "agent1001", "leave")
        await wait_state(b, "agent1003", "conference")  # after the Redirect lands
        await asyncio.sleep(1.0)
        await ast.hang_up(call)

        row = await record(services, call)
        assert row["agents"] == ["1001", "1003"]
        assert set(row["agent_talk"]) == {"1001", "1003"}
        assert "call.conference" in row["timeline"]
        async with services.engine.connect() as conn:
            others = await conn.scalar(
                sa.select(sa.func.count()).where(CALLS.c.linkedid.like("hlcf-%"))
            )
        assert others == 0


@pytest.mark.parametrize("db_backend", ["postgresql"])
async def test_given_an_api_process_when_the_agent_dials_a_customer_then_an_outbound_record(
    asterisk: AsteriskInstance, db_url: str, request: pytest.FixtureRequest
) -> None:
    """Click-to-dial from an `api` process: the request crosses the bus to the leader,
    the agent's phone rings first, then the customer; one outbound call record of the
    customer with the agent on it."""
    redis_url = await fresh_redis(request.getfixturevalue("redis_url"), db=14)
    async with center(asterisk, db_url, redis_url) as (services, b, _):
        assert b.runtime.role == "api"
        await b.post("/api/agent/sign-in", "agent1001", {"ready": False})
        r = await b.http.post(
            "/api/agent/call/dial", json={"number": "12"}, headers=await b.as_user("agent1001")
        )
        assert (r.status_code, r.json()["error"]) == (422, "invalid_target"), r.text
        dialled = await act(b, "agent1001", "dial", number="13900000009")
        call = dialled["call_id"]
        await wait_state(b, "agent1001", "talking")
        await act(b, "agent1001", "hold")
        await act(b, "agent1001", "resume")
        await asyncio.sleep(1.0)
        await act(b, "agent1001", "hangup")

        row = await record(services, call)
        assert row["direction"] == "out"
        assert row["caller_number"] == "13900000009"
        assert row["agents"] == ["1001"]
        assert row["disposition"] == "answered"
        assert ("call.dial", "done") in row["audit"]


async def test_given_an_agents_call_when_the_supervisor_holds_and_ends_it_then_audited_as_theirs(
    asterisk: AsteriskInstance, db_url: str
) -> None:
    async with center(asterisk, db_url) as (services, b, ast):
        call = await answered_call(b, ast)
        agent_id = (await b.agent("1001"))["agent_id"]
        r = await b.http.post(
            f"/api/supervisor/agents/{agent_id}/call/hold", headers=await b.as_user("agent1002")
        )
        assert r.status_code == 403, r.text  # an agent may not act on another's call
        held = await b.post(f"/api/supervisor/agents/{agent_id}/call/hold", "supervisor")
        assert held["state"] == "held"
        await asyncio.sleep(1.0)
        await b.post(f"/api/supervisor/agents/{agent_id}/call/hangup", "supervisor")

        row = await record(services, call)
        assert row["hold_seconds"] >= 0.8
        async with services.engine.connect() as conn:
            actors = (
                await conn.execute(
                    sa.select(AUDIT.c.action, AUDIT.c.actor_name).where(AUDIT.c.object_id == call)
                )
            ).all()
        assert ("call.hold", "supervisor") in [tuple(a) for a in actors]
        assert ("call.hangup", "supervisor") in [tuple(a) for a in actors]


async def test_given_a_call_when_transferred_to_an_outside_number_then_dialled_and_one_record(
    asterisk: AsteriskInstance, db_url: str
) -> None:
    """The sandbox dials outside numbers as Local/<n>@hotline-test-customer (answers)."""
    async with center(asterisk, db_url) as (services, b, ast):
        call = await answered_call(b, ast)
        r = await b.http.post(
            "/api/agent/call/transfer",
            json={"target": "number:12"},
            headers=await b.as_user("agent1001"),
        )
        assert (r.status_code, r.json()["error"]) == (422, "invalid_target"), r.text
        await act(b, "agent1001", "transfer", target="number:02161234567")

        async def outside() -> bool:
            return any(
                c.channel.startswith("Local/02161234567@") and c.linkedid == call
                for c in await ast.pbx.channels()
            )

        await eventually(outside, 20, "the outside number dialled for the caller")
        await wait_state(b, "agent1001", "idle")
        agent1001 = await b.agent("1001")
        assert agent1001["state"] in ("wrap_up", "available"), agent1001
        await ast.hang_up(call)

        row = await record(services, call)
        assert row["agents"] == ["1001"]
        assert row["transfers"] == 1
        assert "call.transferred" in row["timeline"]
