"""SmsGateway: sends the text-message outbox (sms_messages) through the SMS port.

The `sms` duty of the leading process (hotline/wiring.py DUTIES). Messages are queued by
whoever texts a customer (integrations/sms_outbox.py: the campaign engine after a
contact's last attempt, integrations/sms_tickets.py on a ticket state change) in its own
transaction; the gateway:
- wakes on topics.SMS sms.queued, else when the earliest pending message falls due
  (at most every `max_sleep` seconds); rounds run only while this process's term of
  leadership holds (run_when_due's fence): an HTTP post cannot be taken back;
- claims a message with a conditional UPDATE (attempts = what it read; the claim holds it
  for timeout + LEASE_SECONDS, after which a crashed sender's message is due again);
- hands it to the SmsSender (integrations/sms_port.py; by default the signed HTTP
  webhook to sms.url) and records the result (integrations/sms_rules.py): taken -> sent
  (sent_at, gateway_id); refused (4xx but 408/429) -> failed at once with the reason;
  unavailable (5xx, timeout, refused connection) -> pending again after a doubling
  back-off, failed after max_attempts;
- raises one ALERT (sms.failed) for supervisors per failed message (only the update
  that moved it to failed publishes).
Without sms.url (or without its secret in the environment) messages stay pending, said
once in the log, and go as soon as a configured gateway runs: nothing is dropped.

It also runs the ticket state-change texts (sms_tickets.TicketTexts) when
sms.ticket_states is configured: one duty, so one process texts customers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, func, select

from db.models import metadata
from db.models.campaigns import SmsMessage, SmsState
from hotline.services import Services
from integrations.sms_port import (
    HttpSmsSender,
    OutgoingSms,
    SmsRejected,
    SmsSender,
    SmsUnavailable,
)
from integrations.sms_rules import Verdict, after_attempt, failed_alert
from integrations.sms_tickets import TicketTexts
from kernel import topics
from kernel.bus.port import BusClosed, Subscription
from kernel.lifecycle import run_when_due
from tickets.background import stop_tasks

log = logging.getLogger(__name__)
LEASE_SECONDS = 30.0
BATCH = 50
CONCURRENCY = 8
MESSAGES: sa.Table = metadata.tables["sms_messages"]


class SmsGateway:
    def __init__(
        self,
        services: Services,
        *,
        sender: SmsSender | None = None,
        environ: Mapping[str, str] | None = None,
        max_sleep: float = 300.0,
    ) -> None:
        self._services = services
        self._clock = services.clock
        self._settings = services.settings.sms
        self._sender = sender
        self._environ = os.environ if environ is None else environ
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._subs: list[Subscription] = []
        self._max_sleep = max_sleep
        self._said_idle = False
        self.tickets = TicketTexts(services, on_queued=self.poke)
        self.sent = 0
        self.failed = 0

    def _default_sender(self) -> SmsSender | None:
        s = self._settings
        if s.url is None:
            return None
        secret = self._environ.get(s.secret_env)
        if not secret:
            # Not a refused start: this is a duty, and a failing duty gives up the lease
            # for every other one. Messages wait; the log says why.
            log.error(
                "sms.url is set but %s is not in the environment: messages wait", s.secret_env
            )
            return None
        return HttpSmsSender(s.url, secret, clock=self._clock, timeout=s.timeout_seconds)

    async def start(self) -> None:
        self._stopping.clear()
        if self._sender is None:
            self._sender = self._default_sender()
        self._subs = [await self._services.bus.subscribe(topics.SMS)]
        await self.tickets.start()
        self._tasks = [
            asyncio.create_task(self._listen(self._subs[0]), name="sms-wake"),
            asyncio.create_task(self._run(), name="sms-gateway"),
        ]

    async def stop(self, grace_seconds: float = 15.0) -> None:
        """Finish the sends in flight (their result is recorded), then stop."""
        self._stopping.set()
        self._wake.set()
        await self.tickets.stop()
        await stop_tasks(self._tasks, self._subs, grace_seconds)
        self._tasks, self._subs = [], []
        if self._sender is not None:
            await self._sender.close()
            self._sender = None

    def poke(self) -> None:
        self._wake.set()

    # --- one round ----------------------------------------------------------------------

    async def next_due(self) -> dt.datetime | None:
        async with self._services.sessions() as session:
            found = await session.exec(
                select(func.min(SmsMessage.next_attempt_at)).where(
                    SmsMessage.state == SmsState.PENDING
                )
            )
            value = found.one()
        return value if isinstance(value, dt.datetime) else None

    async def send_due(self) -> int:
        """Attempt every message due now (one batch); returns how many were attempted."""
        if self._sender is None:
            await self._say_idle()
            return 0
        now = self._clock.now()
        async with self._services.sessions() as session:
            rows = await session.exec(
                select(SmsMessage)
                .where(SmsMessage.state == SmsState.PENDING)
                .where(col(SmsMessage.next_attempt_at) <= now)
                .order_by(col(SmsMessage.next_attempt_at), col(SmsMessage.id))
                .limit(BATCH)
            )
            due = list(rows.all())
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(row: SmsMessage) -> None:
            async with gate:
                await self._attempt(row)

        await asyncio.gather(*(one(r) for r in due))
        return len(due)

    async def _say_idle(self) -> None:
        if self._said_idle:
            return
        self._said_idle = True
        async with self._services.sessions() as session:
            waiting = (
                await session.exec(select(func.count()).where(SmsMessage.state == SmsState.PENDING))
            ).one()
        log.warning(
            "no SMS gateway configured (sms.url and %s): %d message(s) wait in the outbox",
            self._settings.secret_env,
            waiting,
        )

    async def _claim(self, row: SmsMessage) -> bool:
        lease = self._clock.now() + dt.timedelta(
            seconds=self._settings.timeout_seconds + LEASE_SECONDS
        )
        async with self._services.sessions() as session:
            conn = await session.connection()
            result = await conn.execute(
                sa.update(MESSAGES)
                .where(MESSAGES.c.id == row.id, MESSAGES.c.attempts == row.attempts)
                .where(MESSAGES.c.state == SmsState.PENDING.value)
                .values(attempts=row.attempts + 1, next_attempt_at=lease)
            )
            await session.commit()
        return bool(result.rowcount == 1)

    async def _attempt(self, row: SmsMessage) -> None:
        sender = self._sender
        if sender is None or row.id is None or not await self._claim(row):
            return
        message = OutgoingSms(id=row.id, to=row.number, text=row.text, sender=self._settings.sender)
        gateway_id: str | None = None
        error: str | None = None
        try:
            gateway_id = await sender.send(message)
            result = Verdict.SENT
        except SmsRejected as exc:
            result, error = Verdict.REJECTED, str(exc)
        except SmsUnavailable as exc:
            result, error = Verdict.RETRY, str(exc)
        except Exception as exc:  # a sender's bug must not leave the message claimed
            log.exception("sms %s: the sender failed", row.id)
            result, error = Verdict.RETRY, f"{type(exc).__name__}: {exc}"
        await self._record(row, row.attempts + 1, result, error, gateway_id)

    async def _record(
        self,
        row: SmsMessage,
        attempt_no: int,
        result: Verdict,
        error: str | None,
        gateway_id: str | None,
    ) -> None:
        now = self._clock.now()
        step = after_attempt(self._settings, attempt_no, result)
        values: dict[str, Any] = {
            "state": step.state,
            "last_error": (error or None) and error[:200],
        }
        if step.state == SmsState.SENT.value:
            values.update(sent_at=now, gateway_id=gateway_id, next_attempt_at=None)
        elif step.state == SmsState.FAILED.value:
            values.update(next_attempt_at=None)
        else:
            assert step.retry_in is not None
            values.update(next_attempt_at=now + dt.timedelta(seconds=step.retry_in))
        async with self._services.sessions() as session:
            conn = await session.connection()
            moved = await conn.execute(
                sa.update(MESSAGES)
                .where(MESSAGES.c.id == row.id, MESSAGES.c.attempts == attempt_no)
                .where(MESSAGES.c.state == SmsState.PENDING.value)
                .values(**values)
            )
            await session.commit()
        if moved.rowcount != 1:
            return  # another gateway's term took over this message meanwhile
        if step.state == SmsState.SENT.value:
            self.sent += 1
            return
        log.warning("sms %s attempt %d: %s -> %s", row.id, attempt_no, error, step.state)
        if step.state == SmsState.FAILED.value:
            self.failed += 1
            await self._alert(row, attempt_no, error)

    async def _alert(self, row: SmsMessage, attempts: int, error: str | None) -> None:
        alert = failed_alert(
            sms_id=row.id,
            number=row.number,
            reason=row.reason,
            attempts=attempts,
            error=error,
            at=self._clock.timestamp(),
            campaign_id=row.campaign_id,
            ticket_id=row.ticket_id,
            customer_id=row.customer_id,
        )
        await self._services.bus.publish(topics.ALERT, alert)

    # --- the loop -----------------------------------------------------------------------

    async def _run(self) -> None:
        await run_when_due(
            self._round,
            clock=self._clock,
            stopping=self._stopping,
            wake=self._wake,
            max_sleep=self._max_sleep,
            retry_seconds=5.0,
            what="sms round",
            fence=self._services.fence,
        )

    async def _round(self) -> dt.datetime | None:
        while await self.send_due() == BATCH:
            pass
        if self._sender is None:
            return None  # nothing will go until configured: sleep until poked
        return await self.next_due()

    async def _listen(self, sub: Subscription) -> None:
        try:
            while True:
                try:
                    message = await sub.get()
                except BusClosed:
                    return
                if message.data.get("type") == "sms.queued":
                    self.poke()
        finally:
            await sub.close()
