"""Duplicate detection never absorbs an emergency into a lesser ticket: a repeat contact
of a higher priority (the IVR's gas-leak report, an agent's urgent ticket) raises the
customer's open ticket, tightens its SLA clocks, audits and publishes the raise and links
the call; a lesser repeat only links. On SQLite and PostgreSQL (db_url)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from db.models import Role, TicketCall, TicketPriority, TicketSource, TicketState
from hotline.http import create_app
from hotline.services import Services
from kernel import topics
from kernel.audit import Actor
from kernel.bus.port import Subscription
from kernel.clock import FakeClock
from tests.harness.http_app import add_user as add_api_user
from tests.harness.http_app import api_client, api_services
from tests.integration.tickets.support import START, add_customer, add_user, make_services, tid
from tests.integration.tickets.test_tickets_api import headers_for
from tickets.lifecycle import Action
from tickets.records import TicketDraft
from tickets.service import TicketService
from tickets.sla import SlaMonitor

LEAK = "1763800900.11"  # the gas-leak caller's Linkedid
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
async def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def services(db_url: str, clock: FakeClock) -> AsyncIterator[Services]:
    async for s in make_services(db_url, clock=clock):
        yield s


async def open_repair(services: Services, customer: int) -> int:
    """The customer's open NORMAL repair ticket (reported by phone, no agent yet)."""
    svc = TicketService(services)
    draft = TicketDraft(
        category="repair",
        subject="灶具打不着火",
        customer_id=customer,
        source=TicketSource.IVR,
    )
    result = await svc.create(draft, Actor.system("ivr"), linkedid="1763800000.1")
    assert result.created
    assert result.ticket.priority == TicketPriority.NORMAL
    return tid(result.ticket)


async def relation_of(services: Services, ticket_id: int, linkedid: str) -> str | None:
    from db.models import Call

    async with services.sessions() as s:
        row = await s.exec(
            select(TicketCall.relation)
            .join(Call, Call.id == TicketCall.call_id)  # type: ignore[arg-type]
            .where(TicketCall.ticket_id == ticket_id, Call.linkedid == linkedid)
        )
        return row.first()


async def published(sub: Subscription, kind: str) -> dict[str, Any]:
    """The first message of this type on the subscription (TimeoutError if none)."""
    while True:
        msg = await sub.get(timeout=5)
        if msg.data["type"] == kind:
            return msg.data


async def test_given_an_open_normal_repair_when_the_customer_reports_a_gas_leak_then_it_is_raised(
    services: Services, clock: FakeClock
) -> None:
    svc = TicketService(services)
    customer = await add_customer(services, "3301000009", "赵敏", ["13900009999"])
    ticket_id = await open_repair(services, customer)
    before = await svc.get(ticket_id)
    assert before.response_due_at == START + 120 * MINUTE  # normal: 2 h (24x7 calendar)
    sub = await services.bus.subscribe(topics.TICKET)
    clock.advance(30 * 60)
    leak_at = clock.now()

    result = await svc.create_fault_ticket(
        linkedid=LEAK,
        caller_number="13900009999",
        customer_id=customer,
        category="repair",
        priority="urgent",
        description="燃气泄漏",
    )

    assert not result.created
    t = await svc.get(ticket_id)
    assert tid(result.ticket) == ticket_id
    assert t.priority == TicketPriority.URGENT
    # Urgent SLA (0.25 h response, 2 h resolution) counted from the report.
    assert t.response_due_at == leak_at + 15 * MINUTE
    assert t.resolution_due_at == leak_at + 120 * MINUTE
    assert t.response_warn_at == leak_at + 12 * MINUTE  # sla_warning_fraction 0.8
    assert t.sla_next_at == t.response_warn_at  # the SLA monitor looks then
    assert await relation_of(services, ticket_id, LEAK) == "repeat_call"
    trail = [
        (e.action, e.field, e.from_value, e.to_value, e.actor_name, e.actor_id)
        for e in await svc.history(ticket_id)
    ][-2:]
    assert trail == [
        ("repeat_contact", None, None, None, "ivr", None),
        ("priority_raised", "priority", "normal", "urgent", "ivr", None),
    ]
    raised = (await svc.history(ticket_id))[-1]
    due_before, due_after = (
        [dt.datetime.fromisoformat(d) for d in raised.data[k]] for k in ("due_before", "due_after")
    )
    assert due_before == [START + 120 * MINUTE, START + 24 * 60 * MINUTE]
    assert due_after == [leak_at + 15 * MINUTE, leak_at + 120 * MINUTE]
    # Published like every ticket change, with the raised ticket.
    msg = await published(sub, "ticket.priority_raised")
    assert (msg["ticket"]["priority"], msg["change"]["from"], msg["change"]["to"]) == (
        "urgent",
        "normal",
        "urgent",
    )
    await sub.close()
    # The SLA monitor warns at the urgent instants, not the normal ones.
    monitor = SlaMonitor(services)
    clock.set(leak_at + 13 * MINUTE)
    alerts = await monitor.run_due()
    assert [(a["clock"], a["level"], a["ticket"]["priority"]) for a in alerts] == [
        ("response", 0, "urgent")
    ]


async def test_given_an_open_urgent_ticket_when_a_lesser_repeat_comes_then_it_only_links(
    services: Services,
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    customer = await add_customer(services, "3301000010", "钱伟", ["13900001010"])
    urgent = await svc.create(
        TicketDraft(category="repair", subject="漏气", customer_id=customer, priority="urgent"),
        agent,
        linkedid="1763800000.5",
    )
    due = urgent.ticket.response_due_at
    again = await svc.create(
        TicketDraft(category="repair", subject="再次来电", customer_id=customer),
        agent,
        linkedid="1763800100.6",
    )
    assert not again.created
    t = await svc.get(tid(urgent.ticket))
    assert (t.priority, t.response_due_at) == (TicketPriority.URGENT, due)
    assert [e.action for e in await svc.history(t.id)][-1] == "repeat_contact"  # type: ignore[arg-type]
    assert await relation_of(services, tid(t), "1763800100.6") == "repeat_call"


async def test_given_clocks_met_or_breached_when_raised_then_history_stays_and_deadlines_only_tighten(
    services: Services, clock: FakeClock
) -> None:
    """A response already given stays met; a resolution already breached stays breached
    (the old deadline was sooner); an agent's urgent ticket is audited as theirs."""
    svc = TicketService(services)
    agent = await add_user(services, "agent02")
    customer = await add_customer(services, "3301000011", "孙丽", ["13900001111"])
    ticket_id = await open_repair(services, customer)
    clock.advance(10 * 60)
    await svc.transition(ticket_id, Action.START, agent)  # responded within 2 h: met
    clock.advance(25 * 3600)  # the 24 h resolution deadline passes
    await SlaMonitor(services).run_due()
    breached = await svc.get(ticket_id)
    assert (breached.sla_response_met, breached.sla_resolution_met) == (True, False)

    result = await svc.create(
        TicketDraft(
            category="repair", subject="现在闻到燃气味", customer_id=customer, priority="urgent"
        ),
        agent,
        linkedid="1763900000.2",
    )

    t = await svc.get(ticket_id)
    assert not result.created
    assert (t.priority, t.state) == (TicketPriority.URGENT, TicketState.IN_PROGRESS)
    assert (t.responded_at, t.response_due_at) == (breached.responded_at, breached.response_due_at)
    assert (t.sla_response_met, t.sla_resolution_met) == (True, False)
    assert t.resolution_due_at == breached.resolution_due_at  # sooner than now + 2 h
    assert t.escalation_level >= 1
    last = (await svc.history(ticket_id))[-1]
    assert (last.action, last.actor_id, last.actor_name) == (
        "priority_raised",
        agent.id,
        agent.name,
    )


async def test_given_the_agent_api_when_an_agent_files_an_urgent_repeat_then_it_raises(
    db_url: str,
) -> None:
    """The same rule behind POST /api/tickets (the agent's form)."""
    async with api_services(db_url) as services:
        agent = await add_api_user(services, "agent01", Role.AGENT, "1001")
        headers = headers_for(services, agent)
        body = {"category": "repair", "subject": "表后阀漏水", "contact_number": "13800002222"}
        async with api_client(create_app(services)) as client:
            first = await client.post("/api/tickets", json=body, headers=headers)
            assert first.status_code == 201, first.text
            urgent = {**body, "subject": "闻到燃气味", "priority": "urgent", "linkedid": "1764.1"}
            again = await client.post("/api/tickets", json=urgent, headers=headers)
            assert again.status_code == 201, again.text
        created, raised = first.json()["ticket"], again.json()
        assert raised["created"] is False
        assert raised["ticket"]["id"] == created["id"]
        assert (created["priority"], raised["ticket"]["priority"]) == ("normal", "urgent")
        last = (await TicketService(services).history(created["id"]))[-1]
        assert (last.action, last.actor_id) == ("priority_raised", agent.id)
