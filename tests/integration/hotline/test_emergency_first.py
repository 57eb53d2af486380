"""Issue 11, "Must show": emergencies are never downgraded or overtaken, end to end on the
real Asterisk 22 through the product's own wiring (hotline/runtime.py: CTI bridge, call
log, router, FastAGI IVR, tickets, recordings, live view, HTTP).

Zhang (tier A) has an open NORMAL repair ticket. A first caller asks the IVR for an
operator; agent 1002 is offered the call and never answers, so it goes back to the
general queue (head of the line) and 1002 pauses. Then Zhang reports a gas leak through
the IVR (keys 2, 1): the open ticket ends URGENT, linked to this call, and Zhang waits
in the emergency queue. Agent 1001 serves both queues; when it goes ready, it is offered
Zhang first although the requeued caller waits in its other queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

from db.models import AgentSkill, User
from devtools.services.asterisk import AsteriskInstance
from devtools.services.net import free_port
from hotline.runtime import Runtime
from hotline.services import Services
from kernel.audit import Actor
from tests.harness.cti import CtiStack, stack_settings
from tests.integration.devtools.test_sandbox import RawAmi
from tests.integration.ivr.support import seed_ivr_customers
from tests.integration.ivr.test_ivr_classic_agi import ALWAYS_OPEN
from tests.integration.routing.stack import Recorder, _hang_up_everything, _record
from tests.ivr_scenarios import UNKNOWN_PHONE, ZHANG, ZHANG_PHONE
from tests.support import eventually
from tickets.records import TicketDraft

pytestmark = pytest.mark.integration  # SQLite and PostgreSQL (db_url)
OFFER_TIMEOUT = 3  # seconds agent 1002's phone rings (routing + the dialplan global)
AGENTS = {"1001": {"emergency": 9, "general": 9}, "1002": {"general": 9}}


@contextlib.asynccontextmanager
async def running(asterisk: AsteriskInstance, db_url: str) -> AsyncIterator[Runtime]:
    """`hotline serve` in this process: the real Runtime on the sandbox Asterisk."""
    settings = stack_settings(
        asterisk,
        db_url,
        HOTLINE_HTTP__PORT=str(free_port()),
        HOTLINE_AUTH__SECRET_KEY=secrets.token_hex(32),
        HOTLINE_BUSINESS_HOURS__WEEKLY=ALWAYS_OPEN,  # the IVR's main menu, not "closed"
        HOTLINE_BUSINESS_HOURS__HOLIDAYS="[]",
        HOTLINE_ROUTING__OFFER_TIMEOUT_SECONDS=str(OFFER_TIMEOUT),
        HOTLINE_ROUTING__MAX_NO_ANSWER_BEFORE_PAUSE="1",
        # No HOTLINE_EWT_<queue> globals: they would make the next tests' callers hear an
        # estimated wait (for 120 s) before they join their holding queue.
        HOTLINE_ROUTING__ANNOUNCE_WAIT="false",
    )
    # The sandbox Asterisk is shared with earlier tests: the router would recover their
    # callback requests (AstDB) and their callers as its own at start.
    ami = await RawAmi.connect(asterisk)
    try:
        await ami.action("DBDelTree", Family="hotline/callback")  # "not found" is fine
        await ami.action("Hangup", Channel="/./")  # every channel (a regular expression)
    finally:
        await ami.close()
    runtime = Runtime(settings)
    await runtime.start()
    try:
        yield runtime
    finally:
        await asyncio.wait_for(runtime.stop(), 60)


def cti_of(runtime: Runtime) -> CtiStack:
    """The runtime's own parts, seen through the CTI test helpers (call, call_row)."""
    services = runtime.services
    assert services is not None
    writer = runtime.component("call_log")
    assert services.features.bridge is not None
    return CtiStack(
        services.settings,
        services.bus,  # type: ignore[arg-type]  # the in-process bus (no redis.url)
        services.features.bridge,
        writer,  # type: ignore[arg-type]
        services.engine,
        services.sessions,
    )


async def add_agents(services: Services) -> dict[str, int]:
    ids: dict[str, int] = {}
    async with services.sessions() as session:
        for ext, skills in AGENTS.items():
            user = User(
                username=f"agent{ext}", display_name=f"坐席{ext}", extension=ext, password_hash="x"
            )
            session.add(user)
            await session.flush()
            assert user.id is not None
            ids[ext] = user.id
            session.add_all(
                AgentSkill(user_id=user.id, skill=s, level=n) for s, n in skills.items()
            )
        await session.commit()
    return ids


async def test_a_gas_leak_raises_the_open_repair_ticket_and_is_served_before_a_requeued_caller(
    asterisk: AsteriskInstance, db_url: str
) -> None:
    async with running(asterisk, db_url) as runtime:
        services = runtime.services
        assert services is not None
        routing, tickets = services.features.routing, services.features.tickets
        assert routing is not None
        assert tickets is not None
        cti = cti_of(runtime)
        customers = await seed_ivr_customers(services.sessions)
        ids = await add_agents(services)
        await routing.reload_agents()  # the agents were added after the router started
        open_ticket = await tickets.create(
            TicketDraft(
                category="repair",
                subject="灶具打不着火",
                customer_id=customers[ZHANG.id],
                contact_number=ZHANG_PHONE,
            ),
            Actor(ids["1001"], "坐席1001", "agent"),
        )
        ticket_id = open_ticket.ticket.id
        assert ticket_id is not None
        assert open_ticket.ticket.priority == "normal"
        recorder = Recorder()
        sub = await services.bus.subscribe("call", "offer", "agent", "ticket")
        recording = asyncio.create_task(_record(sub, recorder))
        pbx = services.pbx
        assert pbx is not None
        await pbx.set_var("", "HOTLINE_TEST_1002_NO_ANSWER", "1")
        await pbx.set_var("", "HOTLINE_OFFER_TIMEOUT", str(OFFER_TIMEOUT))
        try:
            await routing.login(ids["1001"])  # signed in, not ready yet
            await routing.login(ids["1002"], ready=True)

            # 1. A caller asks for an operator; 1002 rings unanswered: back to the line.
            first = await cti.call(caller=UNKNOWN_PHONE, dtmf="ww0")
            await eventually(
                lambda: bool(recorder.of("call", "call.agent_no_answer", call_id=first)),
                60,
                "the first caller's offer to 1002 goes unanswered",
            )

            def waiting() -> dict[str, dict[str, Any]]:
                return {c["call_id"]: c for c in routing.waiting_calls()}

            await eventually(
                lambda: waiting().get(first, {}).get("head_of_line") is True,
                20,
                "the first caller back at the head of the general queue",
            )
            assert routing.agent(ids["1002"])["reason"] == "no_answer"

            # 2. Zhang reports a gas leak through the IVR.
            leak = await cti.call(caller=ZHANG_PHONE, dtmf="ww2ww1")
            await eventually(lambda: leak in waiting(), 60, "the gas leak waits for an agent")
            line = waiting()
            assert (line[leak]["queue"], line[leak]["priority"]) == ("emergency", 1000)
            assert (line[first]["queue"], line[first]["head_of_line"]) == ("general", True)
            assert line[first]["priority"] < 1000

            # The open normal ticket is now urgent, linked to the gas-leak call.
            ticket = await tickets.get(ticket_id)
            assert ticket.priority == "urgent"
            assert [t.id for t in await tickets.tickets_for_call(leak)] == [ticket_id]
            relations = {c.linkedid: rel for c, rel in await tickets.calls(ticket_id)}
            assert relations[leak] == "repeat_call"
            raised = [e for e in await tickets.history(ticket_id) if e.action == "priority_raised"]
            assert [(e.from_value, e.to_value, e.actor_name) for e in raised] == [
                ("normal", "urgent", "ivr")
            ]
            assert recorder.of("ticket", "ticket.priority_raised")

            # 3. Agent 1001 (emergency and general) goes ready: the gas leak first.
            await routing.ready(ids["1001"])
            await eventually(
                lambda: bool(recorder.of("call", "call.answered", agent="1001")),
                30,
                "1001 answers",
            )
            offers = [o["call_id"] for o in recorder.of("offer", "offer", agent_id=ids["1001"])]
            assert offers[0] == leak
            answered = recorder.of("call", "call.answered", agent="1001")
            assert answered[0]["call_id"] == leak
            assert first in waiting()  # the requeued caller waits until 1001 is free again
            row = await cti.call_row(leak)
            assert row is not None
            assert (row["queue"], row["priority"]) == ("emergency", 1000)
        finally:
            await pbx.set_var("", "HOTLINE_TEST_1002_NO_ANSWER", "")
            shipped = stack_settings(asterisk, db_url).routing.offer_timeout_seconds
            await pbx.set_var("", "HOTLINE_OFFER_TIMEOUT", str(shipped))  # as rendered
            await _hang_up_everything(cti)
            await sub.close()
            recording.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recording
