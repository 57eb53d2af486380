"""The IVR on the real Asterisk 22 through FastAGI: Local-channel callers press keys with
SendDTMF (deploy/asterisk/extensions_test.conf), the CTI bridge writes the call record.

Prompts are not rendered here, so every prompt is a short beep (ivr/agi_channel.py) and
the keys are timed in half-second "w" pauses; the clock is a Monday morning, so the
center is open.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from cti.commands import ChannelNotFound
from db.models import metadata
from devtools.services.asterisk import AsteriskInstance
from hotline.services import Services
from ivr.fastagi import IvrFastAgiServer
from kernel.bus import Subscription
from kernel.clock import FakeClock
from tests.harness.cti import CtiStack
from tests.integration.ivr.support import seed_ivr_customers
from tests.ivr_scenarios import LI, UNKNOWN_PHONE, ZHANG, ZHANG_PHONE
from tests.support import eventually

pytestmark = pytest.mark.integration  # SQLite and PostgreSQL (db_url)
MONDAY_MORNING = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
TICKETS = metadata.tables["tickets"]
LINKS = metadata.tables["ticket_calls"]


@dataclass
class IvrStack:
    cti: CtiStack
    server: IvrFastAgiServer
    ids: dict[int, int]  # scenario customer id -> row id
    events: Subscription
    placed: list[str] = field(default_factory=list)

    async def reached(self, linkedid: str, node: str) -> None:
        while True:
            e = (await self.events.get(timeout=30)).data
            if e["type"] == "call.ivr_step" and e["call_id"] == linkedid and e["node"] == node:
                return

    async def facts(self, linkedid: str) -> str:
        """The IVR's facts as the bridge saw them (UserEvent HotlineIvrResult)."""
        while True:
            e = (await self.events.get(timeout=30)).data
            if e["type"] == "call.ivr_completed" and e["call_id"] == linkedid:
                return str(e["call"].get("ivr_facts") or "")

    async def call(self, caller: str, dtmf: str, hangup_after: float = 3600) -> str:
        linkedid = await self.cti.call(caller=caller, dtmf=dtmf, hangup_after=hangup_after)
        self.placed.append(linkedid)
        return linkedid

    async def hang_up_all(self) -> None:
        """Callers this test left waiting in a holding queue (the Asterisk is shared)."""
        for leg in await self.cti.bridge.commands.channels():
            if leg.linkedid in self.placed:
                with contextlib.suppress(ChannelNotFound):  # gone with its other half
                    await self.cti.bridge.commands.hangup(leg.channel)

    async def ended(self, linkedid: str, timeout: float = 45) -> dict[str, Any]:
        return await self.cti.wait_ended(linkedid, timeout)

    async def queued(self, linkedid: str) -> dict[str, Any]:
        async def waiting() -> bool:
            row = await self.cti.call_row(linkedid)
            return row is not None and row["queued_at"] is not None

        await eventually(waiting, 30, f"{linkedid} queued")
        row = await self.cti.call_row(linkedid)
        assert row is not None
        return row


@pytest.fixture
async def ivr(cti_stack: CtiStack, asterisk: AsteriskInstance) -> AsyncIterator[IvrStack]:
    services = Services(
        settings=cti_stack.settings,
        bus=cti_stack.bus,
        engine=cti_stack.engine,
        sessions=cti_stack.sessions,
        pbx=cti_stack.bridge.commands,
        clock=FakeClock(MONDAY_MORNING),
    )
    server = IvrFastAgiServer(services)
    await server.start()
    events = await cti_stack.bus.subscribe("call")
    stack = IvrStack(cti_stack, server, await seed_ivr_customers(cti_stack.sessions), events)
    try:
        yield stack
    finally:
        await stack.hang_up_all()
        await server.stop()


async def _tickets_of(stack: CtiStack, linkedid: str) -> list[dict[str, Any]]:
    calls = metadata.tables["calls"]
    async with stack.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(TICKETS)
            .join(LINKS, LINKS.c.ticket_id == TICKETS.c.id)
            .join(calls, calls.c.id == LINKS.c.call_id)
            .where(calls.c.linkedid == linkedid)
        )
        return [dict(r._mapping) for r in rows]


async def test_identified_by_caller_id_hears_the_balance(ivr: IvrStack) -> None:
    linkedid = await ivr.call(ZHANG_PHONE, "ww1")  # then silence: goodbye after the balance
    row = await ivr.ended(linkedid)
    assert row["disposition"] == "self_service"
    assert row["customer_id"] == ivr.ids[ZHANG.id]
    assert row["ivr_path"][-3:] == ["billing", "billing_after", "goodbye"]
    facts = await ivr.facts(linkedid)
    assert "arrears=312.40" in facts
    assert "identified=caller_id" in facts


async def test_identified_by_account_number_then_the_billing_queue(ivr: IvrStack) -> None:
    linkedid = await ivr.call(UNKNOWN_PHONE, "ww1ww310000654321#wwwwww1")
    row = await ivr.queued(linkedid)
    assert row["queue"] == "billing"
    assert row["customer_id"] == ivr.ids[LI.id]
    assert row["tier"] == "C"
    assert row["priority"] == 10
    assert row["language"] == "en"  # Ms Li's preference
    assert "identified=account" in await ivr.facts(linkedid)


async def test_gas_leak_makes_an_urgent_ticket_and_jumps_to_the_emergency_queue(
    ivr: IvrStack,
) -> None:
    linkedid = await ivr.call(UNKNOWN_PHONE, "ww2ww1")
    row = await ivr.queued(linkedid)
    assert (row["queue"], row["priority"]) == ("emergency", 1000)
    assert "fault=燃气泄漏" in await ivr.facts(linkedid)  # Chinese through AMI intact
    tickets = await _tickets_of(ivr.cti, linkedid)
    assert [(t["category"], t["priority"], t["source"]) for t in tickets] == [
        ("repair", "urgent", "ivr")
    ]


async def test_callback_request_is_logged_and_the_caller_hangs_up(ivr: IvrStack) -> None:
    seen = await ivr.cti.bus.subscribe("call")
    linkedid = await ivr.call(ZHANG_PHONE, "ww4")
    row = await ivr.ended(linkedid)
    assert row["disposition"] == "callback_requested"
    while (event := (await seen.get(timeout=10)).data)["type"] != "call.callback_requested":
        pass
    assert event["call_id"] == linkedid
    assert event["number"] == ZHANG_PHONE
    assert event["call"]["skill"] == "general"


async def test_garbage_and_silence_end_with_an_agent(ivr: IvrStack) -> None:
    linkedid = await ivr.call(UNKNOWN_PHONE, "ww7" + "w" * 14 + "8")
    row = await ivr.queued(linkedid)
    assert row["queue"] == "general"
    assert row["ivr_path"][-1] == "operator"
    assert "operator=invalid" in await ivr.facts(linkedid)


@pytest.mark.parametrize(
    ("caller", "dtmf", "last_node"),
    [
        (ZHANG_PHONE, "", "main"),
        (UNKNOWN_PHONE, "ww1", "billing"),  # while typing the account number
        (UNKNOWN_PHONE, "ww2", "fault"),
        (ZHANG_PHONE, "ww1", "billing_after"),
    ],
    ids=["main-menu", "account-entry", "fault-menu", "after-balance"],
)
async def test_hang_up_at_each_menu_level(
    ivr: IvrStack, caller: str, dtmf: str, last_node: str
) -> None:
    linkedid = await ivr.call(caller, dtmf)
    await ivr.reached(linkedid, last_node)
    for leg in await ivr.cti.bridge.commands.channels():
        if leg.uniqueid == linkedid:  # the caller's own phone hangs up
            await ivr.cti.bridge.commands.hangup(leg.channel)
    row = await ivr.ended(linkedid)
    assert row["disposition"] == "abandoned_ivr"
    assert row["ivr_path"][-1] == last_node
    assert row["ivr_path"][:2] == ["start", "hours"]
    assert row["queued_at"] is None
