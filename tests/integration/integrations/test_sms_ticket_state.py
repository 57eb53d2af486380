"""Ticket state change -> SMS (integrations/sms_tickets.py through the sms duty's
gateway), SQLite and PostgreSQL, against a local HTTP gateway: a repair ticket resolved
texts its customer's primary phone exactly once, even when the event is delivered again;
other categories and states text nobody."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import col, select

from db.models.campaigns import SmsMessage, SmsState
from hotline.runtime import Infrastructure, Runtime
from hotline.services import Services
from integrations.sms import SmsGateway
from kernel import topics
from kernel.clock import FakeClock
from tests.integration.integrations.sms_support import (
    ENVIRON,
    SECRET,
    SECRET_ENV,
    SmsReceiver,
    bodies,
    serve,
    sms_env,
)
from tests.integration.tickets.support import START, add_customer, add_user, services_for, tid
from tests.support import eventually
from tickets.lifecycle import Action
from tickets.records import TicketDraft
from tickets.service import TicketService

RULES = '[{category: repair, states: [resolved], text: "{name}您好，您的{category}工单{number}已处理完毕。"}]'


@pytest.fixture
async def receiver() -> AsyncIterator[SmsReceiver]:
    async for r in serve(SmsReceiver(FakeClock(START))):
        yield r


@pytest.fixture
async def services(db_url: str, receiver: SmsReceiver) -> AsyncIterator[Services]:
    env = sms_env(receiver.url, ticket_states=RULES)
    async with services_for(db_url, clock=receiver.clock, env=env) as s:
        yield s


async def test_given_a_repair_ticket_resolved_then_its_customer_gets_one_text_even_if_the_event_comes_twice(
    services: Services, receiver: SmsReceiver
) -> None:
    gateway = SmsGateway(services, environ=ENVIRON)
    await gateway.start()
    seen = await services.bus.subscribe(topics.TICKET)
    try:
        svc = TicketService(services)
        agent = await add_user(services, "agent01")
        customer = await add_customer(services, "880012", "王芳", ["13900139000", "057188000000"])
        ticket = (
            await svc.create(
                TicketDraft(
                    category="repair",
                    subject="燃气表漏气",
                    customer_id=customer,
                    contact_number="13700137000",  # who called: not the customer's phone
                ),
                agent,
            )
        ).ticket
        await svc.transition(tid(ticket), Action.RESOLVE, agent, resolution="已更换表前阀")
        await eventually(lambda: gateway.sent == 1, timeout=10, what="the resolved text sent")

        resolved: dict[str, Any] = {}
        while not resolved:
            data = (await seen.get(timeout=5)).data
            if data["type"] == "ticket.resolved":
                resolved = data
        heard = gateway.tickets.heard
        for _ in range(2):  # the bus delivers it again (at-least-once)
            await services.bus.publish(topics.TICKET, resolved)
        await eventually(
            lambda: gateway.tickets.heard >= heard + 2, what="the redelivered events handled"
        )
        assert await gateway.tickets.handle(resolved) is None  # and by hand, once more
        assert await gateway.send_due() == 0
    finally:
        await seen.close()
        await gateway.stop()

    assert receiver.bad_signatures == 0
    (body,) = bodies(receiver)
    assert body["to"] == "13900139000"  # the customer's primary phone
    assert body["text"] == f"王芳您好，您的故障报修工单{ticket.number}已处理完毕。"
    async with services.sessions() as s:
        rows = (await s.exec(select(SmsMessage).order_by(col(SmsMessage.id)))).all()
    assert [(m.ticket_id, m.customer_id, m.reason, m.state) for m in rows] == [
        (ticket.id, customer, "ticket_state:resolved", SmsState.SENT)
    ]


async def test_given_other_categories_and_states_then_nobody_is_texted(
    services: Services, receiver: SmsReceiver
) -> None:
    gateway = SmsGateway(services, environ=ENVIRON)
    await gateway.start()
    try:
        svc = TicketService(services)
        agent = await add_user(services, "agent01")
        customer = await add_customer(services, "880013", "李雷", ["13600136000"])
        complaint = (
            await svc.create(
                TicketDraft(category="complaint", subject="抄表员态度差", customer_id=customer),
                agent,
            )
        ).ticket
        repair = (
            await svc.create(
                TicketDraft(category="repair", subject="灶具打不着火", customer_id=customer),
                agent,
            )
        ).ticket
        await svc.transition(tid(complaint), Action.RESOLVE, agent, resolution="已致歉")
        await svc.transition(tid(repair), Action.START, agent)  # repair: only resolved texts
        # created, assigned, started, resolved... every event heard, none texts.
        await eventually(lambda: gateway.tickets.heard >= 5, what="the ticket events handled")
    finally:
        await gateway.stop()
    assert gateway.tickets.queued == 0
    assert bodies(receiver) == []
    async with services.sessions() as s:
        assert (await s.exec(select(SmsMessage))).all() == []


async def test_given_a_ticket_without_a_customer_then_the_contact_number_is_texted(
    services: Services, receiver: SmsReceiver
) -> None:
    gateway = SmsGateway(services, environ=ENVIRON)
    await gateway.start()
    try:
        svc = TicketService(services)
        agent = await add_user(services, "agent01")
        ticket = (
            await svc.create(
                TicketDraft(
                    category="repair",
                    subject="路边闻到燃气味",
                    contact_number="13500135000",
                    contact_name="路人张先生",
                ),
                agent,
            )
        ).ticket
        await svc.transition(tid(ticket), Action.RESOLVE, agent, resolution="已排查")
        await eventually(lambda: gateway.sent == 1, timeout=10, what="the text sent")
    finally:
        await gateway.stop()
    (body,) = bodies(receiver)
    assert body["to"] == "13500135000"
    assert body["text"].startswith("路人张先生您好")


async def test_given_the_runtime_sms_duty_when_a_repair_ticket_is_resolved_then_the_customer_is_texted(
    services: Services, receiver: SmsReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)  # the duty reads its secret from the environment
    runtime = Runtime(
        services.settings,
        role="pbx",
        only={"sms"},
        migrate=False,
        infrastructure=Infrastructure(
            services.bus, services.engine, services.sessions, services.clock
        ),
    )
    await runtime.start()
    try:
        duties = runtime.duties
        assert duties is not None
        await eventually(lambda: duties.active, 10, "the only process leads")
        assert [name for name, _ in duties.running] == ["sms"]
        duty = duties.component("sms")
        assert isinstance(duty, SmsGateway)
        svc = TicketService(services)
        agent = await add_user(services, "agent01")
        customer = await add_customer(services, "880014", "赵敏", ["13300133000"])
        ticket = (
            await svc.create(
                TicketDraft(category="repair", subject="热水器点不着", customer_id=customer),
                agent,
            )
        ).ticket
        await svc.transition(tid(ticket), Action.RESOLVE, agent, resolution="已修复")
        await eventually(lambda: duty.sent == 1, timeout=10, what="the duty sent the text")
    finally:
        await runtime.stop()
    (body,) = bodies(receiver)
    assert (body["to"], body["text"]) == (
        "13300133000",
        f"赵敏您好，您的故障报修工单{ticket.number}已处理完毕。",
    )
