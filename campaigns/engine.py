"""CampaignEngine: the leader's duty (`campaigns` in hotline/wiring.py DUTIES) that dials
the contacts of running message, survey and appointment campaigns.

Each round (woken by campaign.changed, a campaign call's end, or its own timer):
1. attempts whose call the call log saw end, or that never reported within ring time
   plus the longest call, are finished, all in one transaction (a restarted leader
   finishes what its predecessor left: nothing stays DIALING);
2. for each running campaign inside its calling window (campaigns/rules.py), the due
   contacts are dialled, never more calls in flight than campaigns.trunk_channels (and
   the campaign's own rules.max_channels), never faster than campaigns.calls_per_second
   (campaigns/pacing.py); a number on the do-not-call list is opted out, never dialled.
   A campaign's dials are a batch: as many due contacts as the pacer allows at that
   moment are claimed in ONE transaction (campaigns/attempts.py start_attempts, the
   same conditional claim as start_attempt), originated one by one (the window checked
   again at each dial; a PbxError/PbxUnavailable finishes only that attempt FAILED),
   then the calls are recorded in ONE transaction (call records marked outbound of the
   campaign, failed Originates finished, claims never dialled because the window
   closed given back: release_attempts). Stopped mid-batch, the dialled calls are
   recorded and the undialled claims given back; the one Originate cut short stays
   open for finish_stale:

    AMI Originate  Channel=Local/<number>@hotline-campaign-dial  (campaigns.dial_context)
                   Context=hotline-campaign Exten=s  ChannelId=hlcp-<random>
                   Variable=HOTLINE_CAMPAIGN_ID, HOTLINE_CONTACT_ID, HOTLINE_ATTEMPT_ID,
                   HOTLINE_CUSTOMER_ID, HOTLINE_CALLBACK_CALLERID,
                   HOTLINE_CAMPAIGN_RING_SECONDS, HOTLINE_AMD (+ its timings)

When the customer answers, [hotline-campaign] runs the call flow (campaigns/agi.py), which
writes the attempt's outcome; when the call ends (bus call.ended of the hlcp- Linkedid)
the engine finishes the attempt (campaigns/attempts.py): the flow's outcome, or busy / no
answer / failed from the hangup cause (campaigns/outcomes.py), and the dialing rules move
the contact. The ends are coalesced: the listener queues them and one task finishes what
is queued (at most END_BATCH) in one transaction, so ends that arrive while a batch is
being written go together in the next; what is queued when the engine stops is in the
call log, and finish_stale takes it up. The call record is an outbound call with
calls.campaign_id. Everything is in the database: a restart or another leader loses
nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

from campaigns import engine_store as store
from campaigns.agi import amd_settings, channel_vars
from campaigns.attempts import (
    Claim,
    Claimed,
    Ending,
    Finished,
    finish_attempts,
    release_attempts,
    start_attempts,
)
from campaigns.outcomes import classify_end
from campaigns.pacing import Pacer, campaign_room, free_channels
from campaigns.rules import DialingRules
from cti.commands import OriginatePurpose, PbxError, PbxUnavailable
from db.models.campaigns import (
    AttemptOutcome,
    Campaign,
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
END_BATCH = 500  # call ends finished in one transaction at most


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
        self._ended: dict[str, dict[str, Any]] = {}  # call.ended not yet finished
        self._ended_ready = asyncio.Event()
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
            asyncio.create_task(self._finish_ended(), name="campaign-call-ends"),
            asyncio.create_task(self._run(), name="campaign-engine"),
        ]

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._ended_ready.set()
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
                opted = [c.id for c in due if c.number in blocked and c.id is not None]
                if opted:  # on the do-not-call list: opted out, never dialled
                    await store.opt_out(session, opted, now)
                    await session.commit()
            dials = [c for c in due if c.number not in blocked]
            if dials:
                batch = await self._dial_batch(campaign, rules, dials)
                placed += batch
                free -= batch
                now = self._clock.now()
            await self._progress(campaign.id)
            if self._paced():  # the pacer stopped this batch: the next round goes on
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
        """Attempts whose call ended without the bus telling us, or past their deadline,
        finished together in one transaction."""
        async with self._services.sessions() as session:
            attempts = await store.open_attempts(session)
            ends: list[tuple[int, str, AttemptOutcome, str | None]] = []
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
                ends.append((attempt.id, attempt.linkedid, outcome, cause))
            if not ends:
                return 0
            finished = await self._finish_in(session, ends)
            await session.commit()
        return await self._finished(finished)

    async def call_ended(self, linkedid: str, call: Mapping[str, Any]) -> None:
        """A campaign call ended (bus call.ended): its attempt is finished now."""
        await self.calls_ended([(linkedid, call)])

    async def calls_ended(self, ended: Sequence[tuple[str, Mapping[str, Any]]]) -> int:
        """Campaign calls that ended (bus call.ended, coalesced by the listener): their
        attempts finished in one transaction; returns how many moved."""
        if not ended:
            return 0
        async with self._services.sessions() as session:
            open_ = await store.open_by_linkedid(session, (linkedid for linkedid, _ in ended))
            ends: list[tuple[int, str, AttemptOutcome, str | None]] = []
            for linkedid, call in ended:
                if linkedid not in open_:
                    continue  # not a campaign attempt, or finished before
                answered = call.get("answered_at") is not None
                raw = call.get("hangup_cause")
                cause = None if raw is None else str(raw)
                outcome = classify_end(answered=answered, cause=cause)
                ends.append((open_[linkedid][0], linkedid, outcome, cause))
            finished = await self._finish_in(session, ends)
            await session.commit()
        moved = await self._finished(finished)
        self.poke()
        return moved

    # -- the parts ---------------------------------------------------------------------------

    def _paced(self) -> bool:
        return self._paced_until is not None

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

    async def _dial_batch(
        self, campaign: Campaign, rules: DialingRules, contacts: Sequence[CampaignContact]
    ) -> int:
        """Dial a round's due contacts of one campaign: as many as the pacer allows now are
        claimed in one transaction, originated one by one (the window checked again at
        each dial), and the calls recorded in one transaction with the failed Originates
        finished and the claims never dialled given back. Returns the calls placed."""
        pbx = self._services.pbx
        assert pbx is not None
        assert campaign.id is not None
        # Pacing is about the trunk in real time, whatever the scheduling clock says.
        moment = time.monotonic()
        allowed = self._pacer.take_up_to(moment, len(contacts))
        if allowed < len(contacts):
            wait = self._pacer.next_at(moment) - moment
            self._paced_until = self._clock.now() + dt.timedelta(seconds=wait)
        if allowed == 0:
            return 0
        now = self._clock.now()
        if not rules.may_call(now):
            self._pacer.give_back(allowed)
            return 0
        claims = [
            Claim(c.id, c.attempts, f"{OriginatePurpose.CAMPAIGN.value}{secrets.token_hex(10)}")
            for c in contacts[:allowed]
            if c.id is not None
        ]
        async with self._services.sessions() as session:
            claimed = await start_attempts(session, claims, now=now)
            await session.commit()
        # another dialer took a contact, or it was cancelled meanwhile
        self._pacer.give_back(allowed - len(claimed))
        of = {c.id: c for c in contacts}
        dialled: list[tuple[Claimed, float]] = []
        failed: list[Claimed] = []
        released: list[Claimed] = []
        try:
            for i, claim in enumerate(claimed):
                # The window again at each dial, on the clock of this instant: a batch
                # begun just before the window's end (or before the clock moved) places
                # nothing after it.
                if not rules.may_call(self._clock.now()):
                    released = list(claimed[i:])
                    break
                try:
                    await pbx.originate(**self._originate(campaign, of[claim.contact_id], claim))
                except (PbxUnavailable, PbxError) as exc:
                    log.warning(
                        "campaign %s contact %s: originate failed: %s",
                        campaign.id,
                        claim.contact_id,
                        exc,
                    )
                    failed.append(claim)
                    continue
                dialled.append((claim, self._clock.timestamp()))
        except asyncio.CancelledError:
            # Stopped mid-batch: what was dialled is recorded and the claims not yet
            # dialled are given back; the one Originate cut short is left open (its call
            # may be up): finish_stale decides it from the call log.
            done = {c.attempt_id for c, _ in dialled} | {c.attempt_id for c in failed}
            cut = next((c for c in claimed if c.attempt_id not in done), None)
            released = [c for c in claimed if c.attempt_id not in done and c is not cut]
            await self._record(campaign.id, dialled, failed, released)
            raise
        await self._record(campaign.id, dialled, failed, released)
        self._pacer.give_back(len(released) + len(failed))
        return len(dialled)

    def _originate(
        self, campaign: Campaign, contact: CampaignContact, claim: Claimed
    ) -> dict[str, Any]:
        cfg = self._cfg
        caller_id = campaign.caller_id or cfg.caller_id
        variables = {
            "HOTLINE_CAMPAIGN_ID": str(campaign.id),
            "HOTLINE_CONTACT_ID": str(contact.id),
            "HOTLINE_ATTEMPT_ID": str(claim.attempt_id),
            "HOTLINE_CUSTOMER_ID": str(contact.customer_id or ""),
            "HOTLINE_CAMPAIGN_RING_SECONDS": str(cfg.ring_seconds),
            **channel_vars(amd_settings(cfg.amd, campaign.rules)),
        }
        if caller_id:
            variables["HOTLINE_CALLBACK_CALLERID"] = caller_id
        return {
            "endpoint": f"Local/{contact.number}@{cfg.dial_context}",
            "purpose": OriginatePurpose.CAMPAIGN,
            "context": cfg.context,
            "exten": "s",
            "caller_id": caller_id,
            "variables": variables,
            "timeout_seconds": cfg.ring_seconds + 5,
            "uniqueid": claim.linkedid,
        }

    async def _record(
        self,
        campaign_id: int,
        dialled: Sequence[tuple[Claimed, float]],
        failed: Sequence[Claimed],
        released: Sequence[Claimed],
    ) -> None:
        """One transaction after a batch's Originates: each placed call's record (an
        outbound call of the campaign, the attempt pointing to it), the failed Originates
        finished FAILED, the claims never dialled given back."""
        async with self._services.sessions() as session:
            ids = await store.ensure_calls(session, {c.linkedid: at for c, at in dialled})
            calls = {c.attempt_id: ids[c.linkedid] for c, _ in dialled}
            await store.mark_calls(session, campaign_id, calls)
            await release_attempts(session, released, now=self._clock.now())
            ends = [(c.attempt_id, c.linkedid, AttemptOutcome.FAILED, "originate") for c in failed]
            finished = await self._finish_in(session, ends)
            await session.commit()
        await self._finished(finished)

    async def _finish_in(
        self, session: Any, ends: Sequence[tuple[int, str, AttemptOutcome, str | None]]
    ) -> list[Finished]:
        """Attempts (id, linkedid, outcome, cause) finished in the session's transaction,
        each with its call record (marked as the campaign's outbound call if an engine
        stopped before marking it)."""
        if not ends:
            return []
        call_ids = await store.call_ids_of(session, (linkedid for _, linkedid, _, _ in ends))
        endings = [
            Ending(aid, outcome, None if cause is None else cause[:16], call_ids.get(linkedid))
            for aid, linkedid, outcome, cause in ends
        ]
        finished = await finish_attempts(
            session, endings, rules_of=self._rules, now=self._clock.now()
        )
        campaign_of = {aid: f.campaign_id for f in finished for aid in [f.attempt_id]}
        await store.mark_unmarked(
            session,
            {
                e.call_id: campaign_of[e.attempt_id]
                for e in endings
                if e.call_id is not None and e.attempt_id in campaign_of
            },
        )
        return finished

    async def _finished(self, finished: Sequence[Finished]) -> int:
        """After the commit: texts to the gateway, progress for the page."""
        moved = [f for f in finished if f.moved]
        self.finished += len(moved)
        for f in moved:
            if f.state == ContactState.FAILED and f.sms_id is not None:
                await self._services.bus.publish(topics.SMS, sms_queued(f.sms_id))
        for campaign_id in sorted({f.campaign_id for f in moved}):
            await self._progress(campaign_id)
        return len(moved)

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
                        # Coalesced: the ends that arrive while a batch is being
                        # finished go together in the next one.
                        self._ended[linkedid] = dict(data.get("call") or {})
                        self._ended_ready.set()
        finally:
            await sub.close()

    async def _finish_ended(self) -> None:
        """Drains the call.ended queue, a batch (at most END_BATCH) per transaction. What
        is still queued when the engine stops is in the call log: the next round's
        finish_stale (or a new leader's) finishes it."""
        while True:
            await self._ended_ready.wait()
            if self._stopping.is_set():
                return
            self._ended_ready.clear()
            batch = list(itertools.islice(self._ended.items(), END_BATCH))
            for linkedid, _ in batch:
                del self._ended[linkedid]
            if self._ended:
                self._ended_ready.set()
            try:
                await self.calls_ended(batch)
            except Exception:
                log.exception("campaign calls %s...: finishing failed", batch[0][0])
                self.poke()  # the round's finish_stale takes them up


def _max_channels(campaign: Campaign) -> int | None:
    value = (campaign.rules or {}).get("max_channels")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
