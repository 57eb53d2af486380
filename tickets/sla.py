"""SlaMonitor: reports SLA warnings, breaches and escalations at the right instants.

No polling: every running clock's next stage instant is kept in tickets.sla_next_at
(tickets/clocks.py), so the monitor sleeps until the smallest one. It wakes early when a
ticket changes (bus topic "ticket", fan-out) or when poke() is called (tests advance a
FakeClock, then poke), and at least every `max_sleep` seconds in case the clock jumped.

For each alert it appends a ticket_events row (sla_warning, sla_breached, escalated),
records SLA met = False on a breach, raises tickets.escalation_level, and publishes on
bus topic "alert" (the agent API pushes these to supervisors' websockets):
    {"type": "sla.warning" | "sla.breach", "clock": "response" | "resolution",
     "level": 0 (warning) | 1 (breach) | 2.. (escalations), "department": name,
     "department_label": zh, "ticket": {id, number, subject, category, priority, state,
     assignee_id, customer_id}, "due_at": iso, "at": iso,
     "notify": {"roles": [...], "user_ids": [department leads and the assignee]}}
Several monitors (several backend processes) may run: the ticket row is locked and
re-checked, so each stage is reported once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from sqlmodel import col, func, select

from db.models import Role, Ticket, User
from db.unit_of_work import retry_locked
from hotline.services import Services
from kernel import topics
from kernel.audit import Actor
from kernel.bus.port import BusClosed, Subscription
from kernel.lifecycle import run_when_due
from tickets.background import stop_tasks
from tickets.clocks import SlaClocks
from tickets.sla_policy import SlaAlert, evaluate
from tickets.trail import Trail

log = logging.getLogger(__name__)
ACTOR = Actor.system("sla")
BATCH = 200
RETRY_SECONDS = 5.0


def _action(alert: SlaAlert) -> str:
    return (
        "sla_warning" if alert.level == 0 else "sla_breached" if alert.level == 1 else "escalated"
    )


class SlaMonitor:
    def __init__(self, services: Services, *, max_sleep: float = 300.0) -> None:
        self._services = services
        self._clock = services.clock
        self.clocks = SlaClocks(services.settings)
        self._labels = {d.name: d.label.zh for d in services.settings.tickets.departments}
        self._max_sleep = max_sleep
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._subs: list[Subscription] = []
        self._stopping = asyncio.Event()
        self.reported = 0

    async def start(self) -> None:
        self._subs = [await self._services.bus.subscribe(topics.TICKET)]
        self._tasks = [
            asyncio.create_task(self._listen(self._subs[0]), name="sla-wake"),
            asyncio.create_task(self._run(), name="sla-monitor"),
        ]

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        await stop_tasks(self._tasks, self._subs)
        self._tasks, self._subs = [], []

    def poke(self) -> None:
        """Look again now (the clock moved, or something changed)."""
        self._wake.set()

    async def next_due(self) -> dt.datetime | None:
        async with self._services.sessions() as session:
            found = await session.exec(select(func.min(Ticket.sla_next_at)))
            value = found.one()
        return value if isinstance(value, dt.datetime) else None

    async def run_due(self) -> list[dict[str, Any]]:
        """Report everything due at the clock's now; returns the alerts published."""
        published: list[dict[str, Any]] = []
        while True:
            now = self._clock.now()
            async with self._services.sessions() as session:
                rows = await session.exec(
                    select(Ticket.id)
                    .where(col(Ticket.sla_next_at) <= now)
                    .order_by(col(Ticket.sla_next_at))
                    .limit(BATCH)
                )
                due = [i for i in rows.all() if i is not None]
            for ticket_id in due:
                published.extend(await self._check(ticket_id))
            if len(due) < BATCH:
                return published

    async def _check(self, ticket_id: int) -> list[dict[str, Any]]:
        async def work() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            async with self._services.sessions() as session:
                found = await session.exec(
                    select(Ticket).where(Ticket.id == ticket_id).with_for_update()
                )
                t = found.first()
                now = self._clock.now()
                if t is None or t.sla_next_at is None or t.sla_next_at > now:
                    return [], []  # another monitor (or a change) got there first
                trail = Trail(
                    session, t, ACTOR, now, list(self._services.settings.tickets.webhooks)
                )
                alerts: list[dict[str, Any]] = []
                states = (
                    ("response", self.clocks.response_state(t)),
                    ("resolution", self.clocks.resolution_state(t)),
                )
                for name, state in states:
                    alert, _next = evaluate(name, state, now)  # type: ignore[arg-type]
                    if alert is None:
                        continue
                    self._advance(t, alert)
                    trail.record(
                        _action(alert),
                        field=f"sla_{alert.clock}",
                        new=alert.level,
                        data={
                            "clock": alert.clock,
                            "level": alert.level,
                            "stage": alert.stage,
                            "due_at": alert.due_at.isoformat(),
                        },
                    )
                    alerts.append(await self._alert(session, t, alert, now))
                self.clocks.refresh(t)
                if trail.events:
                    await trail.flush()
                else:
                    session.add(t)
                await session.commit()
                return alerts, trail.messages

        alerts, messages = await retry_locked(work)
        for message in messages:
            await self._services.bus.publish(topics.TICKET, message)
        for alert in alerts:
            await self._services.bus.publish(topics.ALERT, alert)
        self.reported += len(alerts)
        return alerts

    @staticmethod
    def _advance(t: Ticket, alert: SlaAlert) -> None:
        if alert.clock == "response":
            t.sla_response_stage = alert.stage
            if alert.level >= 1:
                t.sla_response_met = False
        else:
            t.sla_resolution_stage = alert.stage
            if alert.level >= 1:
                t.sla_resolution_met = False

    async def _alert(
        self, session: Any, t: Ticket, alert: SlaAlert, now: dt.datetime
    ) -> dict[str, Any]:
        leads = await session.exec(
            select(User.id).where(
                User.department == t.department,
                col(User.role).in_([Role.SUPERVISOR, Role.ADMIN]),
                User.active == True,  # noqa: E712 (SQL expression)
            )
        )
        ids: set[int] = {int(i) for i in leads.all() if i is not None}
        if t.assignee_id is not None:
            ids.add(t.assignee_id)
        roles = ["supervisor"] + (["admin"] if alert.level >= 2 else [])
        return {
            "type": alert.kind,
            "clock": alert.clock,
            "level": alert.level,
            "department": t.department,
            "department_label": self._labels.get(t.department, t.department),
            "ticket": {
                "id": t.id,
                "number": t.number,
                "subject": t.subject,
                "category": t.category,
                "priority": str(t.priority.value),
                "state": str(t.state.value),
                "assignee_id": t.assignee_id,
                "customer_id": t.customer_id,
            },
            "due_at": alert.due_at.isoformat(),
            "at": now.isoformat(),
            "notify": {"roles": roles, "user_ids": sorted(ids)},
        }

    async def _run(self) -> None:
        await run_when_due(
            self._round,
            clock=self._clock,
            stopping=self._stopping,
            wake=self._wake,
            max_sleep=self._max_sleep,
            retry_seconds=RETRY_SECONDS,
            what="SLA check",
            fence=self._services.fence,
        )

    async def _round(self) -> dt.datetime | None:
        await self.run_due()
        return await self.next_due()

    async def _listen(self, sub: Subscription) -> None:
        try:
            while True:
                try:
                    msg = await sub.get()
                except BusClosed:
                    return
                if not str(msg.data.get("type", "")).startswith(
                    ("ticket.sla_", "ticket.escalated")
                ):
                    self.poke()
        finally:
            await sub.close()
