"""An attempt's start and end, the same for every dialer (campaigns/engine.py for
message, survey and appointment campaigns; campaigns/agent_dialer.py for agents' lists).

    attempt_id = await start_attempt(session, contact_id, expected_attempts=n,
                                     linkedid=..., now=...)
    state = await finish_attempt(session, attempt_id, outcome, rules=rules, now=...)

start_attempt claims the contact (PENDING -> DIALING, attempts + 1) with one conditional
UPDATE, so of two dialers (or a leader and its stale predecessor) one wins, and writes the
attempt row. finish_attempt closes the attempt (the call flow's outcome, written on the
row while the customer was on the line, wins over the dialer's guess), moves the contact
by the dialing rules (done, retried at its next time inside a window, failed, opted out),
texts a contact the campaign could not reach when it asks for that (SMS fallback), and
completes the campaign when its last contact is final. Finishing twice changes nothing.
The caller commits.

The message engine works in batches, one transaction each (campaigns/README.md,
"Batching"): start_attempts claims a round's contacts with the same conditional claim
(one UPDATE per group of equal `attempts`, RETURNING the winners) and writes their
attempt rows in one INSERT; release_attempts gives back claims that were never dialled
(the calling window closed mid-batch): the contact is PENDING again with its attempts as
before, and the attempt row, which cannot be deleted, is closed with no outcome and
`hangup_cause` NOT_DIALLED (campaigns/store.py leaves such rows out of every count);
finish_attempts finishes many attempts with finish_attempt's rules, reading their rows
in one query per table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from campaigns.rules import DialingRules, Next
from campaigns.scripts import render_text
from db.models.campaigns import (
    AttemptOutcome,
    Campaign,
    CampaignAttempt,
    CampaignContact,
    CampaignState,
    ContactState,
)
from integrations.sms_outbox import queue_sms

FINAL = (ContactState.DONE, ContactState.FAILED, ContactState.OPTED_OUT, ContactState.CANCELLED)
OPEN = (ContactState.PENDING, ContactState.DIALING)
CONTACTS: sa.Table = CampaignContact.__table__  # type: ignore[attr-defined]
ATTEMPTS: sa.Table = CampaignAttempt.__table__  # type: ignore[attr-defined]
DIALING, PENDING = ContactState.DIALING.value, ContactState.PENDING.value
NOT_DIALLED = "not dialled"  # hangup_cause of a claim given back before its dial
CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True)
class Claim:
    """A contact to claim for a dial: it must still be PENDING with `expected_attempts`."""

    contact_id: int
    expected_attempts: int
    linkedid: str
    agent_id: int | None = None  # the agent the call is for (agents' lists); kept if None


@dataclass(frozen=True)
class Claimed:
    contact_id: int
    attempt_id: int
    attempt: int  # the contact's attempts after the claim
    linkedid: str


@dataclass(frozen=True)
class Ending:
    """An attempt to finish: the dialer's guess of the outcome (the call flow's wins)."""

    attempt_id: int
    outcome: AttemptOutcome
    cause: str | None = None
    call_id: int | None = None


@dataclass(frozen=True)
class Finished:
    attempt_id: int
    campaign_id: int
    contact_id: int
    state: ContactState  # the contact's state afterwards
    moved: bool  # False: the attempt was finished before, nothing changed
    sms_id: int | None = None  # a text to the unreached, queued by this finish


RulesOf = Callable[[Campaign], Awaitable[DialingRules]]
_T = TypeVar("_T")


async def start_attempt(
    session: AsyncSession,
    contact_id: int,
    *,
    expected_attempts: int,
    linkedid: str,
    now: dt.datetime,
    agent_id: int | None = None,
) -> int | None:
    """The attempt's id, or None when the contact is no longer PENDING with
    `expected_attempts` (another dialer took it, or it was cancelled): a claim of one."""
    won = await start_attempts(
        session, [Claim(contact_id, expected_attempts, linkedid, agent_id)], now=now
    )
    return won[0].attempt_id if won else None


async def start_attempts(
    session: AsyncSession, claims: Sequence[Claim], *, now: dt.datetime
) -> list[Claimed]:
    """start_attempt for many contacts in the caller's transaction: the winners, in the
    order of `claims`. Each contact is claimed by the same condition (still PENDING with
    its expected attempts), so of two dialers one wins, and a cancelled or opted-out
    contact is never claimed."""
    if not claims:
        return []
    conn = await session.connection()
    won: set[int] = set()
    by_contact_campaign: dict[int, int] = {}
    by_expected: dict[tuple[int, int | None], list[int]] = {}
    for claim in claims:
        key = (claim.expected_attempts, claim.agent_id)
        by_expected.setdefault(key, []).append(claim.contact_id)
    for (expected, agent_id), ids in by_expected.items():
        for chunk in _chunks(ids):
            rows = await conn.execute(
                sa.update(CONTACTS)
                .where(
                    CONTACTS.c.id.in_(chunk),
                    CONTACTS.c.state == ContactState.PENDING.value,
                    CONTACTS.c.attempts == expected,
                )
                .values(
                    state=ContactState.DIALING.value,
                    attempts=expected + 1,
                    updated_at=now,
                    agent_id=agent_id if agent_id is not None else CONTACTS.c.agent_id,
                )
                .returning(CONTACTS.c.id, CONTACTS.c.campaign_id)
            )
            campaign_of = {int(cid): int(camp) for cid, camp in rows.all()}
            won.update(campaign_of)
            by_contact_campaign.update(campaign_of)
    winners = [c for c in claims if c.contact_id in won]
    if not winners:
        return []
    rows = await conn.execute(
        sa.insert(ATTEMPTS).returning(ATTEMPTS.c.id, ATTEMPTS.c.linkedid),
        [
            {
                "campaign_id": by_contact_campaign[c.contact_id],
                "contact_id": c.contact_id,
                "attempt": c.expected_attempts + 1,
                "linkedid": c.linkedid,
                "started_at": now,
                "agent_id": c.agent_id,
            }
            for c in winners
        ],
    )
    id_of = {str(linkedid): int(aid) for aid, linkedid in rows.all()}
    return [
        Claimed(c.contact_id, id_of[c.linkedid], c.expected_attempts + 1, c.linkedid)
        for c in winners
    ]


async def release_attempts(
    session: AsyncSession, claimed: Sequence[Claimed], *, now: dt.datetime
) -> None:
    """Claims never dialled (the calling window closed before their turn) given back in
    the caller's transaction: not an attempt. The contact is PENDING again with its
    attempts as before (a contact cancelled meanwhile stays cancelled, its attempts as
    before too); the attempt row, never deleted, is closed with no outcome and
    NOT_DIALLED, left out of every count."""
    if not claimed:
        return
    conn = await session.connection()
    for chunk in _chunks([c.attempt_id for c in claimed]):
        await conn.execute(
            sa.update(ATTEMPTS)
            .where(ATTEMPTS.c.id.in_(chunk), ATTEMPTS.c.ended_at.is_(None))
            .values(ended_at=now, hangup_cause=NOT_DIALLED)
        )
    by_attempt: dict[int, list[int]] = {}
    for c in claimed:
        by_attempt.setdefault(c.attempt, []).append(c.contact_id)
    for attempt, ids in by_attempt.items():
        for chunk in _chunks(ids):
            await conn.execute(
                sa.update(CONTACTS)
                .where(CONTACTS.c.id.in_(chunk), CONTACTS.c.attempts == attempt)
                .values(
                    attempts=attempt - 1,
                    state=sa.case(
                        (
                            CONTACTS.c.state == ContactState.DIALING.value,
                            ContactState.PENDING.value,
                        ),
                        else_=CONTACTS.c.state,
                    ),
                    updated_at=now,
                )
            )


async def finish_attempt(
    session: AsyncSession,
    attempt_id: int,
    outcome: AttemptOutcome,
    *,
    rules: DialingRules,
    now: dt.datetime,
    cause: str | None = None,
    call_id: int | None = None,
) -> ContactState:
    """Closes the attempt and moves its contact; returns the contact's state."""

    async def rules_of(_campaign: Campaign) -> DialingRules:
        return rules

    done = await finish_attempts(
        session, [Ending(attempt_id, outcome, cause, call_id)], rules_of=rules_of, now=now
    )
    if not done:
        raise LookupError(f"no campaign attempt {attempt_id}")
    return done[0].state


async def finish_attempts(
    session: AsyncSession, endings: Sequence[Ending], *, rules_of: RulesOf, now: dt.datetime
) -> list[Finished]:
    """finish_attempt for many attempts in the caller's transaction (an attempt that does
    not exist is left out): each attempt closed (the call flow's outcome wins), its
    contact moved by its campaign's rules, texts to the unreached queued, and each
    campaign completed when its last contact is final."""
    if not endings:
        return []
    # Claimed first, by the same kind of conditional UPDATE as a start: a stale sweep and
    # a late call end finishing one attempt at once (two transactions) must not both move
    # its contact (both queued the unreached a text, CI). Only the attempts won here move.
    conn = await session.connection()
    won: set[int] = set()
    for chunk in _chunks(sorted({e.attempt_id for e in endings})):
        rows = await conn.execute(
            sa.update(ATTEMPTS)
            .where(ATTEMPTS.c.id.in_(chunk), ATTEMPTS.c.ended_at.is_(None))
            .values(ended_at=now)
            .returning(ATTEMPTS.c.id)
        )
        won.update(int(aid) for (aid,) in rows.all())
    attempts = {
        a.id: a for a in await _load(session, CampaignAttempt, (e.attempt_id for e in endings))
    }
    contacts = {
        c.id: c
        for c in await _load(session, CampaignContact, (a.contact_id for a in attempts.values()))
    }
    campaigns = {
        c.id: c for c in await _load(session, Campaign, (a.campaign_id for a in attempts.values()))
    }
    rules: dict[int, DialingRules] = {}
    steps: dict[tuple[int, AttemptOutcome, int], Next] = {}
    out: list[Finished] = []
    for ending in endings:
        attempt = attempts.get(ending.attempt_id)
        if attempt is None:
            continue
        contact = contacts[attempt.contact_id]
        campaign = campaigns[attempt.campaign_id]
        assert attempt.id is not None
        assert contact.id is not None
        assert campaign.id is not None
        if attempt.id not in won:  # finished before (or by another): nothing moves twice
            out.append(Finished(attempt.id, campaign.id, contact.id, contact.state, False))
            continue
        won.discard(attempt.id)  # an attempt named twice in `endings` moves once
        final_outcome = attempt.outcome or ending.outcome  # the call flow's word wins
        attempt.outcome = final_outcome
        attempt.ended_at = now
        attempt.hangup_cause = attempt.hangup_cause or ending.cause
        attempt.call_id = attempt.call_id or ending.call_id
        session.add(attempt)
        contact.last_outcome = final_outcome
        contact.last_call_id = attempt.call_id or contact.last_call_id
        contact.updated_at = now
        if contact.state == ContactState.DIALING:
            if contact.opted_out:
                contact.state, contact.next_attempt_at = ContactState.OPTED_OUT, None
            else:
                # The same outcome after the same attempt moves contacts of a campaign
                # to the same place at `now`: the calendar is asked once per batch.
                key = (campaign.id, final_outcome, contact.attempts)
                step = steps.get(key)
                if step is None:
                    if campaign.id not in rules:
                        rules[campaign.id] = await rules_of(campaign)
                    step = steps[key] = rules[campaign.id].after_attempt(*key[1:], now)
                contact.state, contact.next_attempt_at = step.state, step.next_attempt_at
        sms_id = None
        if (
            contact.state == ContactState.FAILED
            and campaign.sms_fallback
            and contact.sms_id is None
        ):
            sms_id = contact.sms_id = await _text_unreached(session, campaign, contact, now)
        session.add(contact)
        out.append(Finished(attempt.id, campaign.id, contact.id, contact.state, True, sms_id))
    await session.flush()
    for campaign_id in {f.campaign_id for f in out if f.moved}:
        await complete_if_done(session, campaigns[campaign_id], now)
    return out


async def _load(session: AsyncSession, model: type[_T], ids: Iterable[int]) -> list[_T]:
    """The rows of `model` with these ids, read afresh (another process may have written
    them: the call flow, the API)."""
    wanted = sorted(set(ids))
    found: list[_T] = []
    for chunk in _chunks(wanted):
        rows = await session.exec(
            select(model)
            .where(col(model.id).in_(chunk))  # type: ignore[attr-defined]
            .execution_options(populate_existing=True)
        )
        found.extend(rows.all())
    return found


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]


async def _text_unreached(
    session: AsyncSession, campaign: Campaign, contact: CampaignContact, now: dt.datetime
) -> int | None:
    template = campaign.sms_text or str(campaign.script.get("text") or "")
    if not template.strip():
        return None
    fields: dict[str, Any] = {"name": contact.name, **dict(contact.data or {})}
    language = str(campaign.script.get("language") or "zh")
    text = render_text(template, fields, language)
    return await queue_sms(
        session,
        number=contact.number,
        text=text,
        reason="campaign",
        now=now,
        customer_id=contact.customer_id,
        campaign_id=campaign.id,
    )


async def complete_if_done(session: AsyncSession, campaign: Campaign, now: dt.datetime) -> bool:
    """A running campaign whose contacts are all final becomes completed."""
    if campaign.state != CampaignState.RUNNING:
        return False
    # EXISTS over (campaign_id, state) in the index: one probe, whatever the list's size.
    open_contact = await session.exec(
        select(CampaignContact.id)
        .where(
            col(CampaignContact.campaign_id) == campaign.id,
            col(CampaignContact.state).in_([s.value for s in OPEN]),
        )
        .limit(1)
    )
    if open_contact.first() is not None:
        return False
    campaign.state = CampaignState.COMPLETED
    campaign.ended_at = now
    session.add(campaign)
    await session.flush()
    return True
