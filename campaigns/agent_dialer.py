"""AgentDialer: the leader's duty that works agent campaigns (kind agent), preview and
progressive, through the router (routing/pbx/campaign_calls.py).

Runs in the process that runs the router (the duty `campaign_agents`, after `routing`
and `campaigns` in hotline/wiring.py DUTIES): placing a call needs the router's view of
who is free in the same instant. Each round, for every RUNNING agent campaign inside
its calling window (campaigns/rules.py), while an agent with the campaign's skill is
free and campaigns/inbound_guard.py allows (no inbound caller waits for those agents,
no inbound queue they serve under its service-level target), the next due contact
(PENDING, next_attempt_at <= now, not on the do-not-call list) is offered to the router:
it reserves one agent, the pop goes out, then the customer is dialled to that agent.
A round runs when an agent changes state or a campaign changes, and every second.

Attempts are written with the engine's campaigns/attempts.py (start_attempt,
finish_attempt), so retries, attempt limits, SMS fallback and completion behave as for
the other kinds; each attempt's call record is made at once (direction out, the
campaign). Campaign calls of every kind share campaigns.trunk_channels. A preview the
agent skips is not an attempt: the contact stays pending and comes back after
campaigns.retry_minutes.no_answer (inside a window).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from campaigns.attempts import finish_attempt, start_attempt
from campaigns.inbound_guard import InboundQueue, verdict
from campaigns.rules import DialingRules
from cti.calllog.writer import ensure_call
from db.models import Call
from db.models.campaigns import (
    AttemptOutcome,
    Campaign,
    CampaignAttempt,
    CampaignContact,
    CampaignKind,
    CampaignState,
    ContactState,
    DialMode,
    DoNotCall,
)
from hotline.services import Services
from kernel import topics
from kernel.bus.port import BusClosed, Subscription
from kernel.business_calendar import load_overrides
from kernel.lifecycle import cancel_and_wait, stop_within
from routing.pbx.campaign_calls import CampaignDial, inbound_view

if TYPE_CHECKING:
    from routing.service import RoutingService

log = logging.getLogger("campaigns")

ROUND_SECONDS = 1.0
CAMPAIGNS = Campaign.__table__  # type: ignore[attr-defined]
CONTACTS = CampaignContact.__table__  # type: ignore[attr-defined]
DNC = DoNotCall.__table__  # type: ignore[attr-defined]
ATTEMPTS = CampaignAttempt.__table__  # type: ignore[attr-defined]
CALLS = Call.__table__  # type: ignore[attr-defined]


class AgentDialer:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._sub: Subscription | None = None
        self._attempts: dict[int, int] = {}  # contact id -> attempt row id in progress
        self.last_verdict: dict[int, str] = {}  # campaign id -> why it placed or not

    @property
    def routing(self) -> RoutingService | None:
        return self.services.features.routing

    async def start(self) -> None:
        routing = self.routing
        if routing is None or not self.settings.campaigns.enabled:
            log.info("agent campaigns: no router in this process, nothing dialled here")
            return
        routing.campaign_calls.port = self
        self._sub = await self.services.bus.subscribe(topics.AGENT, topics.CAMPAIGN)
        self._tasks = [
            asyncio.create_task(self._listen(self._sub), name="campaign-agents-listen"),
            asyncio.create_task(self._run(), name="campaign-agents"),
        ]

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks, what="agent dialer")
        self._tasks.clear()
        if self._sub is not None:
            await stop_within(self._sub.close(), 5.0, "agent dialer subscription")
            self._sub = None
        routing = self.routing
        if routing is not None and routing.campaign_calls.port is self:
            routing.campaign_calls.port = None

    def wake(self) -> None:
        self._wake.set()

    async def _listen(self, sub: Subscription) -> None:
        while True:
            try:
                msg = await sub.get()
            except BusClosed:
                return
            kind = str(msg.data.get("type", ""))
            if (msg.topic == topics.AGENT and msg.data.get("state") == "available") or (
                msg.topic == topics.CAMPAIGN and kind == "campaign.changed"
            ):
                self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.round()
            except Exception:
                log.exception("agent campaigns: round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), ROUND_SECONDS)

    # -- one round ---------------------------------------------------------------------------

    async def round(self) -> int:
        """Place what may be placed now; returns how many calls were placed."""
        routing = self.routing
        if routing is None:
            return 0
        placed = 0
        now = self.services.clock.now()
        running = await self._running()
        overrides = await load_overrides(self.services.engine) if running else None
        for campaign in running:
            rules = DialingRules.of(self.settings, overrides, campaign["rules"])
            if not rules.may_call(now):
                self.last_verdict[campaign["id"]] = "outside_window"
                continue
            queue = self._queue(campaign["skill"])
            if queue is None:
                self.last_verdict[campaign["id"]] = "no_queue"
                continue
            while True:
                if await self._in_flight() >= self.settings.campaigns.trunk_channels:
                    self.last_verdict[campaign["id"]] = "trunk_full"
                    break  # every campaign shares the trunk's channels
                if not self._allowed(routing, campaign["id"], queue):
                    break
                busy = routing.campaign_calls.busy_contacts()
                contact = await self._due(campaign["id"], now, busy)
                if contact is None:
                    self.last_verdict[campaign["id"]] = "no_contact"
                    break
                dial = CampaignDial(
                    campaign_id=campaign["id"],
                    campaign_name=campaign["name"],
                    contact_id=contact["id"],
                    number=contact["number"],
                    queue=queue,
                    preview=campaign["dial_mode"] == DialMode.PREVIEW.value,
                    customer_id=contact["customer_id"],
                    name=contact["name"] or "",
                    data=dict(contact["data"] or {}),
                    caller_id=campaign["caller_id"],
                    language=(contact["data"] or {}).get("language") or None,
                )
                ok = await routing.campaign_calls.place(
                    dial, functools.partial(self._allowed, routing, campaign["id"], queue)
                )
                if not ok:
                    break
                placed += 1
        return placed

    def _allowed(self, routing: RoutingService, campaign_id: int, queue: str) -> bool:
        free, views = inbound_view(routing.router, queue, self.services.clock.timestamp())
        v = verdict(
            free,
            [InboundQueue.of(view) for view in views],
            inbound_first=self.settings.campaigns.inbound_first,
        )
        self.last_verdict[campaign_id] = v.reason
        return v.may_place

    def _queue(self, skill: str | None) -> str | None:
        routing = self.routing
        if routing is None:
            return None
        plan = routing.router.plan
        if skill and skill in plan.by_name:
            return skill
        found = self.settings.queue_for_skill(skill or "")
        if found is not None:
            return found.name
        return None if skill else self.settings.queues[0].name

    # -- SQL ---------------------------------------------------------------------------------

    async def _running(self) -> list[dict[str, Any]]:
        stmt = sa.select(
            CAMPAIGNS.c.id,
            CAMPAIGNS.c.name,
            CAMPAIGNS.c.skill,
            CAMPAIGNS.c.dial_mode,
            CAMPAIGNS.c.caller_id,
            CAMPAIGNS.c.rules,
        ).where(
            CAMPAIGNS.c.kind == CampaignKind.AGENT.value,
            CAMPAIGNS.c.state == CampaignState.RUNNING.value,
        )
        async with self.services.sessions() as session:
            rows = (await _x(session, stmt.order_by(CAMPAIGNS.c.id))).all()
        return [dict(r._mapping) for r in rows]

    async def _in_flight(self) -> int:
        """Campaign calls of every kind in progress (attempts not ended)."""
        stmt = sa.select(sa.func.count()).select_from(ATTEMPTS).where(ATTEMPTS.c.ended_at.is_(None))
        async with self.services.sessions() as session:
            return int((await _x(session, stmt)).scalar_one())

    async def _due(
        self, campaign_id: int, now: dt.datetime, busy: set[int]
    ) -> dict[str, Any] | None:
        """The next due contact of the campaign (oldest due first); contacts whose number
        is on the do-not-call list are set opted_out on the way."""
        listed = sa.exists().where(DNC.c.number == CONTACTS.c.number, DNC.c.lifted_at.is_(None))
        due = sa.or_(CONTACTS.c.next_attempt_at.is_(None), CONTACTS.c.next_attempt_at <= now)
        stmt = (
            sa.select(
                CONTACTS.c.id,
                CONTACTS.c.number,
                CONTACTS.c.name,
                CONTACTS.c.customer_id,
                CONTACTS.c.data,
                CONTACTS.c.attempts,
                listed.label("listed"),
            )
            .where(
                CONTACTS.c.campaign_id == campaign_id,
                CONTACTS.c.state == ContactState.PENDING.value,
                due,
            )
            .order_by(CONTACTS.c.next_attempt_at.is_(None).desc(), CONTACTS.c.next_attempt_at)
            .order_by(CONTACTS.c.id)
            .limit(len(busy) + 5)
        )
        async with self.services.sessions() as session:
            rows = [dict(r._mapping) for r in (await _x(session, stmt)).all()]
            for row in rows:
                if row["id"] in busy:
                    continue
                if row["listed"]:
                    await _x(
                        session,
                        sa.update(CONTACTS)
                        .where(CONTACTS.c.id == row["id"])
                        .values(state=ContactState.OPTED_OUT.value, opted_out=True, updated_at=now),
                    )
                    await session.commit()
                    continue
                return row
        return None

    # -- the router's port (routing/pbx/campaign_calls.py CampaignPort) ----------------------

    async def begin(self, dial: CampaignDial, agent_id: int, linkedid: str) -> bool:
        now = self.services.clock.now()
        async with self.services.sessions() as session:
            row = (
                await _x(
                    session,
                    sa.select(CONTACTS.c.attempts, CONTACTS.c.state).where(
                        CONTACTS.c.id == dial.contact_id
                    ),
                )
            ).first()
            if row is None or row.state != ContactState.PENDING.value:
                return False
            attempt = await start_attempt(
                session,
                dial.contact_id,
                expected_attempts=int(row.attempts),
                linkedid=linkedid,
                now=now,
                agent_id=agent_id,
            )
            if attempt is not None:
                # Every outbound call is a call record with direction out and its campaign.
                call_id = await ensure_call(
                    session, linkedid, started_at=self.services.clock.timestamp()
                )
                await _x(
                    session,
                    sa.update(CALLS)
                    .where(CALLS.c.id == call_id)
                    .values(campaign_id=dial.campaign_id, direction="out"),
                )
                await _x(
                    session,
                    sa.update(ATTEMPTS).where(ATTEMPTS.c.id == attempt).values(call_id=call_id),
                )
            await session.commit()
        if attempt is None:
            return False
        self._attempts[dial.contact_id] = attempt
        return True

    async def end(
        self,
        dial: CampaignDial,
        *,
        outcome: str,
        agent_id: int | None,
        linkedid: str,
        cause: str | None,
    ) -> None:
        attempt = self._attempts.pop(dial.contact_id, None)
        if attempt is None:
            return
        now = self.services.clock.now()
        async with self.services.sessions() as session:
            rules = await self._rules(session, dial.campaign_id)
            await finish_attempt(
                session,
                attempt,
                AttemptOutcome(outcome),
                rules=rules,
                now=now,
                cause=cause,
            )
            if outcome == AttemptOutcome.ANSWERED.value and agent_id is not None:
                await _x(
                    session,
                    sa.update(CONTACTS)
                    .where(CONTACTS.c.id == dial.contact_id)
                    .values(agent_id=agent_id),
                )
                await _x(
                    session,
                    sa.update(ATTEMPTS).where(ATTEMPTS.c.id == attempt).values(agent_id=agent_id),
                )
            await session.commit()
        self._wake.set()

    async def connected(self, dial: CampaignDial, agent_id: int) -> None:
        """The agent answered the customer: the attempt is answered from now."""
        attempt = self._attempts.get(dial.contact_id)
        if attempt is None:
            return
        async with self.services.sessions() as session:
            await _x(
                session,
                sa.update(ATTEMPTS)
                .where(ATTEMPTS.c.id == attempt, ATTEMPTS.c.answered_at.is_(None))
                .values(answered_at=self.services.clock.now(), agent_id=agent_id),
            )
            await session.commit()

    async def skipped(self, dial: CampaignDial, agent_id: int) -> None:
        """A preview the agent skipped: not an attempt; the contact comes back later."""
        now = self.services.clock.now()
        async with self.services.sessions() as session:
            rules = await self._rules(session, dial.campaign_id)
            minutes = rules.retry_minutes.get(AttemptOutcome.NO_ANSWER, 60.0)
            later = rules.next_call_time(now + dt.timedelta(minutes=minutes))
            await _x(
                session,
                sa.update(CONTACTS)
                .where(
                    CONTACTS.c.id == dial.contact_id,
                    CONTACTS.c.state == ContactState.PENDING.value,
                )
                .values(next_attempt_at=later, updated_at=now),
            )
            await session.commit()
        self._wake.set()

    async def _rules(self, session: Any, campaign_id: int) -> DialingRules:
        own = (
            await _x(session, sa.select(CAMPAIGNS.c.rules).where(CAMPAIGNS.c.id == campaign_id))
        ).scalar()
        return DialingRules.of(self.settings, await load_overrides(self.services.engine), own or {})


async def _x(session: Any, stmt: Any) -> Any:
    """Core SQL on the session's connection (its transaction), not the ORM's execute."""
    conn = await session.connection()
    return await conn.execute(stmt)
