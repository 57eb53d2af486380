"""CampaignEngine: the leader's duty (`campaigns` in hotline/wiring.py DUTIES) that dials
the contacts of running message, survey and appointment campaigns.

Each round (woken by campaign.changed, a campaign call's end, or its own timer):
1. attempts whose call the call log saw end, or that never reported within ring time
   plus the longest call, are finished (a restarted leader finishes what its
   predecessor left: nothing stays DIALING);
2. for each running campaign inside its calling window (campaigns/rules.py), the due
   contacts are dialled, never more calls in flight than campaigns.trunk_channels (and
   the campaign's own rules.max_channels), never faster than campaigns.calls_per_second
   (campaigns/pacing.py); a number on the do-not-call list is opted out, never dialled:

    AMI Originate  Channel=Local/<number>@hotline-campaign-dial  (campaigns.dial_context)
                   Context=hotline-campaign Exten=s  ChannelId=hlcp-<random>
                   Variable=HOTLINE_CAMPAIGN_ID, HOTLINE_CONTACT_ID, HOTLINE_ATTEMPT_ID,
                   HOTLINE_CUSTOMER_ID, HOTLINE_CALLBACK_CALLERID,
                   HOTLINE_CAMPAIGN_RING_SECONDS, HOTLINE_AMD (+ its timings)

When the customer answers, [hotline-campaign] runs the call flow (campaigns/agi.py), which
writes the attempt's outcome; when the call ends (bus call.ended of the hlcp- Linkedid)
the engine finishes the attempt (campaigns/attempts.py): the flow's outcome, or busy / no
answer / failed from the hangup cause (campaigns/outcomes.py), and the dialing rules move
the contact. The call record is an outbound call with calls.campaign_id. Everything is in
the database: a restart or another leader loses nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import time
from typing import Any

from campaigns import engine_store as store
from campaigns.agi import amd_settings, channel_vars
from campaigns.attempts import finish_attempt, start_attempt
from campaigns.outcomes import classify_end
from campaigns.pacing import Pacer, campaign_room, free_channels
from campaigns.rules import DialingRules
from cti.calllog.writer import ensure_call
from cti.commands import OriginatePurpose, PbxError, PbxUnavailable
from db.models.campaigns import (
    AttemptOutcome,
    Campaign,
    CampaignAttempt,
    CampaignContact,
    ContactState,
)
from hotline.services import Services
from integrations.sms_outbox import sms_queued
from kernel import topics
from kernel.bus.port import BusClosed, Subscription
from kernel.business_calendar import CalendarOverrides, load_overrides, overrides_version
from kernel.lifecycle import run_when_due
from tickets.background import stop_tasks

log = logging.getLogger(__name__)
LONGEST_CALL_SECONDS = 900.0  # an answered campaign call never lasts longer than this
ENDED_GRACE_SECONDS = 5.0  # the call log saw the end: the bus's call.ended should follow
PROGRESS_EVERY_SECONDS = 1.0


class CampaignEngine:
    def __init__(self, services: Services, *, max_sleep: float = 30.0) -> None:
        self._services = services
        self._clock = services.clock
        self._cfg = services.settings.campaigns
        self._pacer = Pacer(self._cfg.calls_per_second)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._subs: list[Subscription] = []
        self._max_sleep = max_sleep
        self._overrides: CalendarOverrides | None = None
        self._overrides_version: tuple[Any, ...] | None = None
        self._overrides_checked: float | None = None
        self._progress_sent: dict[int, float] = {}
        self._paced_until: dt.datetime | None = None
        self.dialled = 0
        self.finished = 0

    async def start(self) -> None:
        if not self._cfg.enabled:
            return
        bus = self._services.bus
        self._subs = [await bus.subscribe(topics.CAMPAIGN), await bus.subscribe(topics.CALL)]
        self._tasks = [
            asyncio.create_task(self._listen(self._subs[0]), name="campaign-changes"),
            asyncio.create_task(self._listen(self._subs[1]), name="campaign-calls"),
            asyncio.create_task(self._run(), name="campaign-engine"),
        ]

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        await stop_tasks(self._tasks, self._subs)
        self._tasks, self._subs = [], []

    def poke(self) -> None:
        self._wake.set()

    # -- one round ---------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Finish what ended, dial what is due; returns the calls placed."""
        now = self._clock.now()
        await self.finish_stale(now)
        self._paced_until = None
        if self._services.pbx is None:
            return 0
        async with self._services.sessions() as session:
            campaigns = await store.running(session)
            flying = await store.in_flight(session)
        free = free_channels(self._cfg.trunk_channels, sum(flying.values()))
        placed = 0
        for campaign in campaigns:
            assert campaign.id is not None
            rules = await self._rules(campaign)
            if free <= 0 or not rules.may_call(now):
                continue
            room = campaign_room(free, flying.get(campaign.id, 0), _max_channels(campaign))
            if room <= 0:
                continue
            async with self._services.sessions() as session:
                due = await store.due_contacts(session, campaign.id, now, room)
                blocked = await store.blocked_numbers(session, (c.number for c in due))
            for contact in due:
                if contact.number in blocked:
                    await self._opt_out(contact, now)
                    continue
                # The window again at each dial, on the clock of this instant: a round
                # begun just before the window's end (or before the clock moved) places
                # nothing after it.
                now = self._clock.now()
                if not rules.may_call(now):
                    break
                # Pacing is about the trunk in real time, whatever the scheduling clock says.
                moment = time.monotonic()
                if not self._pacer.take(moment):
                    wait = self._pacer.next_at(moment) - moment
                    self._paced_until = self._clock.now() + dt.timedelta(seconds=wait)
                    break
                if await self._dial(campaign, contact, now):
                    placed += 1
                    free -= 1
            await self._progress(campaign.id)
            if self._paced_until is not None:
                break
        self.dialled += placed
        return placed

    async def next_due(self) -> dt.datetime | None:
        """When the next round has work: a contact due inside its window, an attempt's
        deadline, or the pacer's next slot. A full trunk waits for a call's end (a poke)."""
        now = self._clock.now()
        times: list[dt.datetime] = []
        if self._paced_until is not None:
            times.append(self._paced_until)
        async with self._services.sessions() as session:
            campaigns = await store.running(session)
            flying = await store.in_flight(session)
            pending = await store.next_pending(session, [c.id for c in campaigns if c.id])
            stale = await store.open_attempts(session)
        trunk_full = free_channels(self._cfg.trunk_channels, sum(flying.values())) == 0
        for campaign in campaigns:
            if trunk_full or campaign.id not in pending:
                continue
            earliest = pending[campaign.id]
            at = now if earliest is None else max(_aware(earliest), now)
            start = (await self._rules(campaign)).next_call_time(at)
            if start is not None:
                times.append(start)
        for attempt, *_ in stale:
            times.append(_aware(attempt.started_at) + dt.timedelta(seconds=self._deadline()))
        return min(times) if times else None

    async def finish_stale(self, now: dt.datetime) -> int:
        """Attempts whose call ended without the bus telling us, or past their deadline."""
        async with self._services.sessions() as session:
            attempts = await store.open_attempts(session)
        finished = 0
        for attempt, ended_at, answered_at, cause in attempts:
            age = (now - _aware(attempt.started_at)).total_seconds()
            if ended_at is not None and age >= ENDED_GRACE_SECONDS:
                outcome = classify_end(answered=answered_at is not None, cause=cause)
            elif age >= self._deadline():
                outcome = AttemptOutcome.FAILED
                cause = cause or "no outcome from the PBX"
            else:
                continue
            assert attempt.id is not None
            if await self._finish(attempt.id, attempt.campaign_id, outcome, cause=cause):
                finished += 1
        return finished

    async def call_ended(self, linkedid: str, call: dict[str, Any]) -> None:
        """A campaign call ended (bus call.ended): its attempt is finished now."""
        async with self._services.sessions() as session:
            attempt = await store.attempt_by_linkedid(session, linkedid)
        if attempt is None or attempt.id is None or attempt.ended_at is not None:
            return
        answered = call.get("answered_at") is not None
        cause = call.get("hangup_cause")
        outcome = classify_end(answered=answered, cause=None if cause is None else str(cause))
        await self._finish(attempt.id, attempt.campaign_id, outcome, cause=cause)
        self.poke()

    # -- the parts ---------------------------------------------------------------------------

    def _deadline(self) -> float:
        return self._cfg.ring_seconds + 10.0 + LONGEST_CALL_SECONDS

    async def _rules(self, campaign: Campaign) -> DialingRules:
        # The administration's calendar edits, looked up at most every few seconds (real
        # time): a holiday added now is honoured from the next round on.
        moment = time.monotonic()
        if self._overrides_checked is None or moment - self._overrides_checked >= 5.0:
            self._overrides_checked = moment
            version = await overrides_version(self._services.engine)
            if version != self._overrides_version:
                self._overrides = await load_overrides(self._services.engine)
                self._overrides_version = version
        return DialingRules.of(self._services.settings, self._overrides, campaign.rules)

    async def _opt_out(self, contact: CampaignContact, now: dt.datetime) -> None:
        assert contact.id is not None
        async with self._services.sessions() as session:
            await store.opt_out(session, contact.id, now)
            await session.commit()

    async def _dial(self, campaign: Campaign, contact: CampaignContact, now: dt.datetime) -> bool:
        pbx = self._services.pbx
        assert pbx is not None
        assert campaign.id is not None
        assert contact.id is not None
        linkedid = f"{OriginatePurpose.CAMPAIGN.value}{secrets.token_hex(10)}"
        async with self._services.sessions() as session:
            attempt_id = await start_attempt(
                session, contact.id, expected_attempts=contact.attempts, linkedid=linkedid, now=now
            )
            await session.commit()
        if attempt_id is None:
            return False  # another dialer took it, or it was cancelled meanwhile
        cfg = self._cfg
        caller_id = campaign.caller_id or cfg.caller_id
        variables = {
            "HOTLINE_CAMPAIGN_ID": str(campaign.id),
            "HOTLINE_CONTACT_ID": str(contact.id),
            "HOTLINE_ATTEMPT_ID": str(attempt_id),
            "HOTLINE_CUSTOMER_ID": str(contact.customer_id or ""),
            "HOTLINE_CAMPAIGN_RING_SECONDS": str(cfg.ring_seconds),
            **channel_vars(amd_settings(cfg.amd, campaign.rules)),
        }
        if caller_id:
            variables["HOTLINE_CALLBACK_CALLERID"] = caller_id
        try:
            await pbx.originate(
                f"Local/{contact.number}@{cfg.dial_context}",
                purpose=OriginatePurpose.CAMPAIGN,
                context=cfg.context,
                exten="s",
                caller_id=caller_id,
                variables=variables,
                timeout_seconds=cfg.ring_seconds + 5,
                uniqueid=linkedid,
            )
        except (PbxUnavailable, PbxError) as exc:
            log.warning(
                "campaign %s contact %s: originate failed: %s", campaign.id, contact.id, exc
            )
            await self._finish(attempt_id, campaign.id, AttemptOutcome.FAILED, cause="originate")
            return False
        async with self._services.sessions() as session:
            call_id = await ensure_call(session, linkedid, started_at=self._clock.timestamp())
            await store.mark_call(session, call_id, campaign.id, attempt_id)
            await session.commit()
        return True

    async def _finish(
        self, attempt_id: int, campaign_id: int, outcome: AttemptOutcome, *, cause: Any = None
    ) -> bool:
        async with self._services.sessions() as session:
            campaign = await session.get(Campaign, campaign_id)
            if campaign is None:
                return False
            attempt_row = await session.get(CampaignAttempt, attempt_id)
            if attempt_row is None or attempt_row.ended_at is not None:
                return False
            call_id = await store.call_id_of(session, attempt_row.linkedid)
            rules = await self._rules(campaign)
            state = await finish_attempt(
                session,
                attempt_id,
                outcome,
                rules=rules,
                now=self._clock.now(),
                cause=None if cause is None else str(cause)[:16],
                call_id=call_id,
            )
            contact = await session.get(CampaignContact, attempt_row.contact_id)
            sms_id = contact.sms_id if contact is not None else None
            await session.commit()
        self.finished += 1
        if state == ContactState.FAILED and sms_id is not None:
            await self._services.bus.publish(topics.SMS, sms_queued(sms_id))
        await self._progress(campaign_id)
        return True

    async def _progress(self, campaign_id: int) -> None:
        """campaign.progress for the page, at most once a second per campaign (real
        time): the counts read every contact of the campaign, not to be done per call."""
        now = time.monotonic()
        last = self._progress_sent.get(campaign_id)
        if last is not None and now - last < PROGRESS_EVERY_SECONDS:
            return
        self._progress_sent[campaign_id] = now
        async with self._services.sessions() as session:
            counts = await store.counts(session, campaign_id)
            campaign = await session.get(Campaign, campaign_id)
        state = campaign.state.value if campaign is not None else None
        await self._services.bus.publish(
            topics.CAMPAIGN,
            {"type": "campaign.progress", "campaign_id": campaign_id, "state": state, **counts},
        )

    # -- the loop ----------------------------------------------------------------------------

    async def _run(self) -> None:
        await run_when_due(
            self._round,
            clock=self._clock,
            stopping=self._stopping,
            wake=self._wake,
            max_sleep=self._max_sleep,
            retry_seconds=5.0,
            what="campaign round",
            fence=self._services.fence,
        )

    async def _round(self) -> dt.datetime | None:
        await self.run_due()
        due = await self.next_due()
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
                if kind == "campaign.changed":
                    self.poke()
                elif kind == "call.ended":
                    linkedid = str(data.get("call_id", ""))
                    if linkedid.startswith(OriginatePurpose.CAMPAIGN.value):
                        try:
                            await self.call_ended(linkedid, dict(data.get("call") or {}))
                        except Exception:
                            log.exception("campaign call %s: finishing failed", linkedid)
                            self.poke()  # the round's finish_stale takes it up
        finally:
            await sub.close()


def _max_channels(campaign: Campaign) -> int | None:
    value = (campaign.rules or {}).get("max_channels")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
