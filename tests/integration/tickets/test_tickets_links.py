"""Calls and tickets: several tickets per call, several calls per ticket, repeat contacts
linked instead of duplicated, IVR fault reports without an agent, and first-contact
resolution derived from the links (stored on calls.first_contact_resolution)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlmodel import col, select

from db.models import Call, TicketCall, TicketSource, TicketState
from hotline.services import Services
from kernel.audit import Actor
from tests.integration.tickets.support import add_customer, add_user, make_services, tid
from tickets.lifecycle import Action
from tickets.records import TicketDraft
from tickets.service import TicketService


@pytest.fixture
async def services(db_url: str) -> AsyncIterator[Services]:
    async for s in make_services(db_url):
        yield s


async def fcr(services: Services, linkedid: str) -> bool | None:
    async with services.sessions() as s:
        call = (await s.exec(select(Call).where(Call.linkedid == linkedid))).one()
        return call.first_contact_resolution


async def relations(services: Services, ticket_id: int) -> list[tuple[str, str]]:
    async with services.sessions() as s:
        rows = await s.exec(
            select(Call.linkedid, TicketCall.relation)
            .join(TicketCall, col(TicketCall.call_id) == col(Call.id))
            .where(TicketCall.ticket_id == ticket_id)
            .order_by(col(Call.id))
        )
        return [(a, b) for a, b in rows.all()]


async def test_given_an_open_complaint_when_the_customer_calls_again_then_the_call_is_linked_not_duplicated(
    services: Services,
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    customer = await add_customer(services, "3301000001", "王芳", ["13800138000"])
    draft = TicketDraft(category="complaint", subject="燃气费多扣", customer_id=customer)

    first = await svc.create(draft, agent, linkedid="1763800000.1")
    again = await svc.create(
        TicketDraft(
            category="complaint",
            subject="还是多扣费",
            description="第二次来电催办",
            customer_id=customer,
        ),
        agent,
        linkedid="1763800100.7",
    )
    assert first.created
    assert not again.created
    assert tid(again.ticket) == tid(first.ticket)
    assert await relations(services, tid(first.ticket)) == [
        ("1763800000.1", "created_from"),
        ("1763800100.7", "repeat_call"),
    ]
    last = (await svc.history(tid(first.ticket)))[-1]
    assert last.action == "repeat_contact"
    assert last.note == "第二次来电催办"
    # Another category, or an explicit "new ticket", is a new ticket.
    other = await svc.create(
        TicketDraft(category="repair", subject="表具故障", customer_id=customer), agent
    )
    assert other.created
    forced = await svc.create(draft, agent, detect_repeat=False)
    assert forced.created
    # A repeat contact means the first call did not resolve the issue.
    assert await fcr(services, "1763800000.1") is False
    assert await fcr(services, "1763800100.7") is False


async def test_given_an_unidentified_caller_then_repeats_are_matched_by_contact_number(
    services: Services,
) -> None:
    svc = TicketService(services)
    ivr = Actor.system("ivr")
    a = await svc.create(
        TicketDraft(category="repair", subject="漏气", contact_number="13900001111"), ivr
    )
    b = await svc.create(
        TicketDraft(category="repair", subject="漏气", contact_number="+86 139 0000 1111"), ivr
    )
    assert not b.created
    assert tid(b.ticket) == tid(a.ticket)


async def test_given_one_call_about_two_matters_then_it_creates_two_linked_tickets_and_fcr_follows(
    services: Services,
) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    customer = await add_customer(services, "3301000002", "李强", ["13700001234"])
    call = "1763800200.3"
    inquiry = await svc.create(
        TicketDraft(category="inquiry", subject="咨询阶梯气价", customer_id=customer),
        agent,
        linkedid=call,
    )
    repair = await svc.create(
        TicketDraft(category="repair", subject="灶具点不着火", customer_id=customer),
        agent,
        linkedid=call,
    )
    assert await relations(services, tid(inquiry.ticket)) == [(call, "created_from")]
    assert await relations(services, tid(repair.ticket)) == [(call, "created_from")]
    assert [tid(t) for t in await svc.tickets_for_call(call)] == [
        tid(inquiry.ticket),
        tid(repair.ticket),
    ]

    await svc.transition(tid(inquiry.ticket), Action.RESOLVE, agent, resolution="已解答")
    assert await fcr(services, call) is None  # the repair is still open
    await svc.transition(tid(repair.ticket), Action.RESOLVE, agent, resolution="已上门维修")
    assert await fcr(services, call) is True
    # The customer says it is not fixed: the first contact did not resolve it after all.
    await svc.transition(tid(repair.ticket), Action.REOPEN, Actor.system("survey"))
    assert await fcr(services, call) is False


async def test_given_a_ticket_then_calls_can_be_linked_once_each(services: Services) -> None:
    svc = TicketService(services)
    agent = await add_user(services, "agent01")
    t = (await svc.create(TicketDraft(category="inquiry", subject="查询"), agent)).ticket
    assert await svc.link_call(tid(t), agent, linkedid="1763800300.1")
    assert not await svc.link_call(tid(t), agent, linkedid="1763800300.1")
    assert await svc.link_call(tid(t), agent, linkedid="1763800400.9", relation="callback")
    calls = await svc.calls(tid(t))
    assert [(c.linkedid, rel) for c, rel in calls] == [
        ("1763800300.1", "related"),
        ("1763800400.9", "callback"),
    ]
    assert [e.action for e in await svc.history(tid(t))].count("linked_call") == 2


async def test_given_an_ivr_fault_report_then_a_ticket_exists_without_any_agent(
    services: Services,
) -> None:
    svc = TicketService(services)
    customer = await add_customer(services, "3301000003", "赵敏", ["13600002222"])
    result = await svc.create_fault_ticket(
        linkedid="1763800500.2",
        caller_number="13600002222",
        customer_id=customer,
        description="自助报修：燃气表不走字",
        facts={"meter": "M123456", "district": "滨江区"},
    )
    t = result.ticket
    assert result.created
    assert t.source == TicketSource.IVR
    assert t.created_by_id is None
    assert t.assignee_id is None
    assert (t.category, t.department, t.state) == ("repair", "repair_crew", TicketState.NEW)
    assert "meter=M123456" in t.description
    assert t.subject == "自助报修：故障报修"
    first_event = (await svc.history(tid(t)))[0]
    assert (first_event.actor_id, first_event.actor_name) == (None, "ivr")
    assert await relations(services, tid(t)) == [("1763800500.2", "created_from")]
    # The same caller reporting again while it is open: linked, not a second ticket.
    again = await svc.create_fault_ticket(
        linkedid="1763800600.4", caller_number="13600002222", customer_id=customer
    )
    assert not again.created
    assert tid(again.ticket) == tid(t)
