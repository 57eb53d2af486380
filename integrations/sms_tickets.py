"""Ticket state change -> a text to the customer (config sms.ticket_states).

Hears topics.TICKET as the consumer group GROUP (at-least-once: an event not yet
acknowledged when the leader changes goes to the next one) and, for a ticket of a
configured category reaching one of its states, queues one SMS (integrations/
sms_outbox.py) to the customer's primary phone (else the ticket's contact number), with
the rule's text rendered (integrations/sms_rules.py). Once per ticket and state: the
message's reason is "ticket_state:<state>" and a ticket that already has one is not
texted again, so a redelivered event, or a ticket resolved a second time after a
reopen, queues nothing.

Run by SmsGateway (the `sms` duty), which it pokes after each queued text.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import Customer, CustomerPhone
from db.models.campaigns import SmsMessage
from hotline.services import Services
from integrations.sms_outbox import queue_sms, sms_queued
from integrations.sms_rules import TicketChange, render, rule_for, state_change
from kernel import topics
from kernel.bus.port import BusClosed, Subscription
from tickets.background import stop_tasks

log = logging.getLogger(__name__)
GROUP = "sms-ticket-states"


class TicketTexts:
    def __init__(self, services: Services, *, on_queued: Callable[[], None]) -> None:
        self._services = services
        self._rules = list(services.settings.sms.ticket_states)
        self._labels = {c.name: c.label.zh for c in services.settings.tickets.categories}
        self._on_queued = on_queued
        self._tasks: list[asyncio.Task[None]] = []
        self._subs: list[Subscription] = []
        self.queued = 0
        self.heard = 0  # ticket events handled and acknowledged

    async def start(self) -> None:
        if not self._rules:
            return  # no group is created: nothing to hear
        sub = await self._services.bus.subscribe(topics.TICKET, group=GROUP, consumer="sms")
        self._subs = [sub]
        self._tasks = [asyncio.create_task(self._listen(sub), name="sms-ticket-states")]

    async def stop(self) -> None:
        await stop_tasks(self._tasks, self._subs, 10.0)
        self._tasks, self._subs = [], []

    async def handle(self, event: Mapping[str, Any]) -> int | None:
        """Queue the text this event calls for; its id, or None (nothing to send, or
        already sent for this ticket and state)."""
        change = state_change(event)
        if change is None:
            return None
        rule = rule_for(self._rules, change)
        if rule is None:
            return None
        async with self._services.sessions() as session:
            if await _already(session, change):
                return None
            to, name = await _recipient(session, change)
            if not to:
                log.warning("ticket %s %s: no number to text", change.number, change.state)
                return None
            text = render(
                rule.text,
                number=change.number,
                category=self._labels.get(change.category, change.category),
                state=change.state,
                name=name,
            )
            sms_id = await queue_sms(
                session,
                number=to,
                text=text,
                reason=change.reason,
                now=self._services.clock.now(),
                customer_id=change.customer_id,
                ticket_id=change.ticket_id,
            )
            await session.commit()
        await self._services.bus.publish(topics.SMS, sms_queued(sms_id))
        self.queued += 1
        self._on_queued()
        return sms_id

    async def _listen(self, sub: Subscription) -> None:
        while True:
            try:
                message = await sub.get()
            except BusClosed:
                return
            try:
                await self.handle(message.data)
            except Exception:
                # Left unacknowledged: delivered again to the next consumer of the group.
                log.exception("ticket event %s: queueing its text failed", message.id)
                continue
            await sub.ack(message)
            self.heard += 1


async def _already(session: AsyncSession, change: TicketChange) -> bool:
    found = await session.exec(
        select(SmsMessage.id)
        .where(SmsMessage.ticket_id == change.ticket_id)
        .where(SmsMessage.reason == change.reason)
        .limit(1)
    )
    return found.first() is not None


async def _recipient(session: AsyncSession, change: TicketChange) -> tuple[str | None, str]:
    """The customer's primary phone and name; else the ticket's contact."""
    if change.customer_id is not None:
        customer = await session.get(Customer, change.customer_id)
        phones = await session.exec(
            select(CustomerPhone.number)
            .where(CustomerPhone.customer_id == change.customer_id)
            .order_by(col(CustomerPhone.is_primary).desc(), col(CustomerPhone.id))
            .limit(1)
        )
        number = phones.first()
        if number:
            return number, customer.name if customer else (change.contact_name or "")
    return change.contact_number, change.contact_name or ""
