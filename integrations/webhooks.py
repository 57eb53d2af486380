"""WebhookGateway: delivers the webhook outbox (webhook_deliveries) to external systems.

Rows are written by the ticket service in the same transaction as the ticket change
(tickets/trail.py), so nothing is lost between a change and its delivery. The gateway:
- sleeps until the earliest due row (or a "ticket" bus event / poke() wakes it);
- claims a row with a conditional UPDATE (attempts = what it read), so two gateways
  (two backend processes) never send the same attempt; a claim holds the row for
  `timeout + LEASE_SECONDS`, after which a crashed gateway's row is due again;
- keeps each endpoint's events about one ticket in order: a row waits while an older
  undelivered row of the same endpoint and ticket exists;
- POSTs the JSON payload signed with HMAC-SHA256 (integrations/signing.py), logs every
  attempt (webhook_attempts: status, error, duration), and on failure retries with
  exponential backoff (backoff_seconds × 2^(n-1), capped) until max_attempts (then dead).
A 2xx answer is success; the receiver deduplicates on X-Hotline-Delivery.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import col, func, select

from db.models import DeliveryState, WebhookAttempt, WebhookDelivery, metadata
from hotline.services import Services
from integrations.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, sign
from kernel import topics
from kernel.bus.port import BusClosed, Subscription
from kernel.config.care import WebhookSettings
from kernel.lifecycle import run_when_due
from tickets.background import stop_tasks

log = logging.getLogger(__name__)
LEASE_SECONDS = 30.0
BATCH = 50
CONCURRENCY = 8
WAITING = (DeliveryState.PENDING, DeliveryState.RETRY_WAIT)
DELIVERIES: sa.Table = metadata.tables["webhook_deliveries"]


class MissingSecret(RuntimeError):
    pass


def backoff(hook: WebhookSettings, attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt."""
    return float(min(hook.backoff_seconds * 2 ** max(0, attempts - 1), hook.backoff_max_seconds))


def resolve_secrets(
    hooks: list[WebhookSettings], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = os.environ if environ is None else environ
    missing = [h.secret_env for h in hooks if not env.get(h.secret_env)]
    if missing:
        raise MissingSecret(f"webhook secrets not set in the environment: {', '.join(missing)}")
    return {h.name: env[h.secret_env] for h in hooks}


class WebhookGateway:
    def __init__(
        self,
        services: Services,
        *,
        environ: Mapping[str, str] | None = None,
        max_sleep: float = 300.0,
    ) -> None:
        self._services = services
        self._clock = services.clock
        self._hooks = {h.name: h for h in services.settings.tickets.webhooks}
        self._environ = environ
        self._secrets: dict[str, str] = {}
        self._client: httpx.AsyncClient | None = None
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._subs: list[Subscription] = []
        self._max_sleep = max_sleep
        self.delivered = 0

    async def start(self) -> None:
        self._secrets = resolve_secrets(list(self._hooks.values()), self._environ)
        self._client = httpx.AsyncClient(follow_redirects=False)
        self._subs = [await self._services.bus.subscribe(topics.TICKET)]
        self._tasks = [
            asyncio.create_task(self._listen(self._subs[0]), name="webhooks-wake"),
            asyncio.create_task(self._run(), name="webhooks"),
        ]

    async def stop(self, grace_seconds: float = 15.0) -> None:
        """Finish the attempts in flight (their result is logged), then stop."""
        self._stopping.set()
        self._wake.set()
        await stop_tasks(self._tasks, self._subs, grace_seconds)
        self._tasks, self._subs = [], []
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def poke(self) -> None:
        self._wake.set()

    @staticmethod
    def _unblocked() -> sa.ColumnElement[bool]:
        """Not behind an older undelivered row of the same endpoint and ticket."""
        older = sa.alias(DELIVERIES, "older")
        return ~sa.exists(
            sa.select(older.c.id).where(
                older.c.endpoint == DELIVERIES.c.endpoint,
                older.c.ticket_id == DELIVERIES.c.ticket_id,
                older.c.id < DELIVERIES.c.id,
                older.c.state.in_([s.value for s in WAITING]),
            )
        )

    async def next_due(self) -> dt.datetime | None:
        async with self._services.sessions() as session:
            found = await session.exec(
                select(func.min(WebhookDelivery.next_attempt_at))
                .where(col(WebhookDelivery.state).in_(WAITING))
                .where(self._unblocked())
            )
            value = found.one()
        return value if isinstance(value, dt.datetime) else None

    async def deliver_due(self) -> int:
        """Attempt every row due now (one round); returns how many were attempted."""
        now = self._clock.now()
        async with self._services.sessions() as session:
            rows = await session.exec(
                select(WebhookDelivery)
                .where(col(WebhookDelivery.state).in_(WAITING))
                .where(col(WebhookDelivery.next_attempt_at) <= now)
                .where(self._unblocked())
                .order_by(col(WebhookDelivery.id))
                .limit(BATCH)
            )
            due = list(rows.all())
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(row: WebhookDelivery) -> None:
            async with gate:
                await self._attempt(row)

        await asyncio.gather(*(one(r) for r in due))
        return len(due)

    async def _claim(self, row: WebhookDelivery, hook: WebhookSettings) -> bool:
        lease = self._clock.now() + dt.timedelta(seconds=hook.timeout_seconds + LEASE_SECONDS)
        async with self._services.sessions() as session:
            conn = await session.connection()
            result = await conn.execute(
                sa.update(DELIVERIES)
                .where(DELIVERIES.c.id == row.id, DELIVERIES.c.attempts == row.attempts)
                .where(DELIVERIES.c.state.in_([s.value for s in WAITING]))
                .values(attempts=row.attempts + 1, next_attempt_at=lease)
            )
            await session.commit()
        return bool(result.rowcount == 1)

    async def _attempt(self, row: WebhookDelivery) -> None:
        hook = self._hooks.get(row.endpoint)
        if hook is None or self._client is None:
            return  # an endpoint removed from config: its rows wait (visible in the log)
        if not await self._claim(row, hook):
            return
        attempt_no = row.attempts + 1
        body = json.dumps(row.payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(self._secrets[hook.name], body, self._clock.timestamp()),
            EVENT_HEADER: row.event_type,
            DELIVERY_HEADER: row.event_id,
            "User-Agent": "Hotline-Webhooks/1",
        }
        status: int | None = None
        error: str | None = None
        started = time.monotonic()
        try:
            response = await self._client.post(
                row.url, content=body, headers=headers, timeout=hook.timeout_seconds
            )
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        duration_ms = (time.monotonic() - started) * 1000
        await self._record(row, hook, attempt_no, status, error, duration_ms)

    async def _record(
        self,
        row: WebhookDelivery,
        hook: WebhookSettings,
        attempt_no: int,
        status: int | None,
        error: str | None,
        duration_ms: float,
    ) -> None:
        now = self._clock.now()
        values: dict[str, Any] = {
            "last_attempt_at": now,
            "last_status_code": status,
            "last_error": error,
        }
        if error is None:
            values.update(
                state=DeliveryState.DELIVERED.value, delivered_at=now, next_attempt_at=None
            )
        elif attempt_no >= hook.max_attempts:
            values.update(state=DeliveryState.DEAD.value, next_attempt_at=None)
        else:
            wait = dt.timedelta(seconds=backoff(hook, attempt_no))
            values.update(state=DeliveryState.RETRY_WAIT.value, next_attempt_at=now + wait)
        async with self._services.sessions() as session:
            session.add(
                WebhookAttempt(
                    delivery_id=row.id,  # type: ignore[arg-type]
                    at=now,
                    status_code=status,
                    error=error,
                    duration_ms=duration_ms,
                )
            )
            conn = await session.connection()
            await conn.execute(
                sa.update(DELIVERIES)
                .where(DELIVERIES.c.id == row.id, DELIVERIES.c.attempts == attempt_no)
                .values(**values)
            )
            await session.commit()
        if error is None:
            self.delivered += 1
        else:
            log.warning(
                "webhook %s %s attempt %d failed: %s", hook.name, row.event_id, attempt_no, error
            )

    async def _run(self) -> None:
        await run_when_due(
            self._round,
            clock=self._clock,
            stopping=self._stopping,
            wake=self._wake,
            max_sleep=self._max_sleep,
            retry_seconds=5.0,
            what="webhook delivery round",
            fence=self._services.fence,
        )

    async def _round(self) -> dt.datetime | None:
        while await self.deliver_due() == BATCH:
            pass
        return await self.next_due()

    async def _listen(self, sub: Subscription) -> None:
        try:
            while True:
                try:
                    await sub.get()
                except BusClosed:
                    return
                self.poke()
        finally:
            await sub.close()
