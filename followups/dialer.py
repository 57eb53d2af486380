"""FollowUpDialer: calls customers back (回访) once their complaint or repair is resolved.

Follow-up tasks (follow_ups, created by the ticket service on resolve) with method
auto_call are dialled when due:

    AMI Originate  Channel=Local/<number>@hotline-callback   (pbx.dialplan.callback_context)
                   Context=hotline-followup Exten=s            (pbx.dialplan.followup_context)
                   ChannelId=hlfu-...  Variable=HOTLINE_TICKET_ID=<id>,
                   HOTLINE_FOLLOWUP_ID=<id>, HOTLINE_CALLBACK_CALLERID=<caller id>
hotline-callback dials ${HOTLINE_OUTBOUND_PREFIX}<number>${HOTLINE_OUTBOUND_SUFFIX}; when
the customer answers, hotline-followup runs FastAGI route `followup`
(followups/survey_agi.py), which stores the survey and marks the task done.

A task being dialled is `in_progress` with next_attempt_at = a deadline; when its call
ends (bus topic "call", call.ended of the hlfu- Linkedid) the deadline is brought
forward by a short grace, so a survey still being written wins. A task still in
progress at its deadline was not reached: it is retried after retry_minutes (within
business hours if so configured) and, after max_attempts, handed to an agent (method
agent, outcome "unreachable"). Everything lives in the database, so a restart or
another process loses nothing. A dialer that dies between its claim and its Originate
leaves the task in progress until that deadline (the ring time and SURVEY_SECONDS): it is
then retried, the unplaced attempt counted as not reached, never dropped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import sqlalchemy as sa
from sqlmodel import col, func, or_, select

from cti.calllog.writer import ensure_call
from cti.commands import OriginatePurpose, PbxError
from db.models import FollowUp, FollowUpMethod, FollowUpState, metadata
from hotline.services import Services
from kernel import topics
from kernel.audit import Actor
from kernel.bus.port import BusClosed, Subscription
from kernel.business_calendar import BusinessCalendar
from kernel.lifecycle import run_when_due
from tickets.background import stop_tasks
from tickets.service import TicketService

log = logging.getLogger(__name__)
FOLLOW_UPS: sa.Table = metadata.tables["follow_ups"]
ACTOR = Actor.system("follow-up")
SURVEY_SECONDS = 600.0  # longest a survey call may take once answered
GRACE_SECONDS = 15.0  # after the call ended, for the survey's own write to land


class FollowUpDialer:
    def __init__(self, services: Services, *, max_sleep: float = 300.0) -> None:
        self._services = services
        self._clock = services.clock
        self._cfg = services.settings.tickets.follow_up
        self._contract = services.settings.pbx.dialplan
        self._calendar = BusinessCalendar(
            services.settings.business_hours, services.settings.center.timezone
        )
        self._tickets = TicketService(services)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._subs: list[Subscription] = []
        self._max_sleep = max_sleep
        self.dialled = 0

    async def start(self) -> None:
        bus = self._services.bus
        self._subs = [await bus.subscribe(topics.TICKET), await bus.subscribe(topics.CALL)]
        self._tasks = [
            asyncio.create_task(self._listen(self._subs[0]), name="followup-wake"),
            asyncio.create_task(self._listen(self._subs[1]), name="followup-calls"),
            asyncio.create_task(self._run(), name="followup-dialer"),
        ]

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        await stop_tasks(self._tasks, self._subs)
        self._tasks, self._subs = [], []

    def poke(self) -> None:
        self._wake.set()

    def _waiting(self) -> sa.ColumnElement[bool]:
        auto_pending = sa.and_(
            col(FollowUp.method) == FollowUpMethod.AUTO_CALL,
            col(FollowUp.state) == FollowUpState.PENDING,
        )
        return or_(auto_pending, col(FollowUp.state) == FollowUpState.IN_PROGRESS)

    async def next_due(self) -> dt.datetime | None:
        async with self._services.sessions() as session:
            found = await session.exec(
                select(func.min(FollowUp.next_attempt_at)).where(self._waiting())
            )
            value = found.one()
        return value if isinstance(value, dt.datetime) else None

    async def run_due(self) -> int:
        """Dial what is due and give up on calls past their deadline; returns dials."""
        now = self._clock.now()
        async with self._services.sessions() as session:
            rows = await session.exec(
                select(FollowUp)
                .where(self._waiting(), col(FollowUp.next_attempt_at) <= now)
                .order_by(col(FollowUp.next_attempt_at))
                .limit(50)
            )
            due = list(rows.all())
        dialled = 0
        for task in due:
            if task.state == FollowUpState.IN_PROGRESS:
                await self._failed(task, "no_answer")
            elif await self._dial(task):
                dialled += 1
        return dialled

    async def _dial(self, task: FollowUp) -> bool:
        pbx = self._services.pbx
        if pbx is None or not task.number:
            return False
        ring = self._cfg.ring_seconds
        deadline = self._clock.now() + dt.timedelta(seconds=ring + SURVEY_SECONDS)
        if not await self._update(
            task,
            FollowUpState.PENDING,
            state=FollowUpState.IN_PROGRESS,
            attempts=task.attempts + 1,
            next_attempt_at=deadline,
        ):
            return False  # another dialer took it
        task.attempts += 1
        variables = {"HOTLINE_TICKET_ID": str(task.ticket_id), "HOTLINE_FOLLOWUP_ID": str(task.id)}
        if self._cfg.caller_id:
            variables["HOTLINE_CALLBACK_CALLERID"] = self._cfg.caller_id
        try:
            placed = await pbx.originate(
                f"Local/{task.number}@{self._contract.callback_context}",
                purpose=OriginatePurpose.FOLLOW_UP,
                context=self._contract.followup_context,
                exten="s",
                caller_id=self._cfg.caller_id,
                variables=variables,
                timeout_seconds=ring,
            )
        except PbxError as exc:
            log.warning("follow-up %s: originate failed: %s", task.id, exc)
            task.state = FollowUpState.IN_PROGRESS
            await self._failed(task, "originate_failed")
            return False
        async with self._services.sessions() as session:
            call_id = await ensure_call(
                session, placed.uniqueid, started_at=self._clock.timestamp()
            )
            await session.commit()
        await self._update(task, FollowUpState.IN_PROGRESS, call_id=call_id)
        await self._tickets.link_call(task.ticket_id, ACTOR, call_id=call_id, relation="follow_up")
        self.dialled += 1
        return True

    async def _failed(self, task: FollowUp, reason: str) -> None:
        now = self._clock.now()
        if task.attempts >= self._cfg.max_attempts:
            changed = await self._update(
                task,
                FollowUpState.IN_PROGRESS,
                state=FollowUpState.PENDING,
                method=FollowUpMethod.AGENT,
                next_attempt_at=None,
                outcome="unreachable",
            )
            if changed:
                note = f"回访电话{task.attempts}次未接通，转人工回访"
                await self._tickets.annotate(
                    task.ticket_id,
                    ACTOR,
                    "follow_up_unreachable",
                    note=note,
                    data={"follow_up_id": task.id, "reason": reason},
                )
            return
        retry = now + dt.timedelta(minutes=self._cfg.retry_minutes)
        if self._cfg.business_hours_only:
            retry = self._calendar.next_open(retry)
        await self._update(
            task,
            FollowUpState.IN_PROGRESS,
            state=FollowUpState.PENDING,
            next_attempt_at=retry,
            outcome=reason,
        )

    async def _update(self, task: FollowUp, expected: FollowUpState, **values: object) -> bool:
        """Change the task only if it is still in `expected` state (one winner)."""
        async with self._services.sessions() as session:
            conn = await session.connection()
            result = await conn.execute(
                sa.update(FOLLOW_UPS)
                .where(FOLLOW_UPS.c.id == task.id, FOLLOW_UPS.c.state == expected.value)
                .values(**values)
            )
            await session.commit()
        return bool(result.rowcount == 1)

    async def call_ended(self, linkedid: str) -> None:
        """A follow-up call ended: its task gets a short grace before it counts as failed."""
        grace = self._clock.now() + dt.timedelta(seconds=GRACE_SECONDS)
        async with self._services.sessions() as session:
            conn = await session.connection()
            calls = metadata.tables["calls"]
            await conn.execute(
                sa.update(FOLLOW_UPS)
                .where(FOLLOW_UPS.c.state == FollowUpState.IN_PROGRESS.value)
                .where(FOLLOW_UPS.c.next_attempt_at > grace)
                .where(
                    FOLLOW_UPS.c.call_id.in_(
                        sa.select(calls.c.id).where(calls.c.linkedid == linkedid)
                    )
                )
                .values(next_attempt_at=grace)
            )
            await session.commit()
        self.poke()

    async def _run(self) -> None:
        await run_when_due(
            self._round,
            clock=self._clock,
            stopping=self._stopping,
            wake=self._wake,
            max_sleep=self._max_sleep,
            retry_seconds=5.0,
            what="follow-up round",
            fence=self._services.fence,
        )

    async def _round(self) -> dt.datetime | None:
        await self.run_due()
        due = await self.next_due()
        # Without a PBX link (an API-only process) nothing can be dialled here.
        return due if self._services.pbx is not None else None

    async def _listen(self, sub: Subscription) -> None:
        try:
            while True:
                try:
                    msg = await sub.get()
                except BusClosed:
                    return
                data = msg.data
                kind = str(data.get("type", ""))
                if kind == "ticket.follow_up_scheduled":
                    self.poke()
                elif kind == "call.ended" and str(data.get("call_id", "")).startswith("hlfu-"):
                    await self.call_ended(str(data["call_id"]))
        finally:
            await sub.close()
