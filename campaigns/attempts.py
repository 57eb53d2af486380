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
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from campaigns.rules import DialingRules
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
    `expected_attempts` (another dialer took it, or it was cancelled)."""
    conn = await session.connection()
    claimed = await conn.execute(
        sa.update(CONTACTS)
        .where(
            CONTACTS.c.id == contact_id,
            CONTACTS.c.state == ContactState.PENDING.value,
            CONTACTS.c.attempts == expected_attempts,
        )
        .values(
            state=ContactState.DIALING.value,
            attempts=expected_attempts + 1,
            updated_at=now,
            agent_id=agent_id if agent_id is not None else CONTACTS.c.agent_id,
        )
    )
    if claimed.rowcount != 1:
        return None
    contact = await session.get(CampaignContact, contact_id, populate_existing=True)
    assert contact is not None
    attempt = CampaignAttempt(
        campaign_id=contact.campaign_id,
        contact_id=contact_id,
        attempt=expected_attempts + 1,
        linkedid=linkedid,
        started_at=now,
        agent_id=agent_id,
    )
    session.add(attempt)
    await session.flush()
    assert attempt.id is not None
    return attempt.id


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
    attempt = await session.get(CampaignAttempt, attempt_id, populate_existing=True)
    if attempt is None:
        raise LookupError(f"no campaign attempt {attempt_id}")
    contact = await session.get(CampaignContact, attempt.contact_id, populate_existing=True)
    assert contact is not None
    if attempt.ended_at is not None:  # finished before: nothing moves twice
        return contact.state
    final_outcome = attempt.outcome or outcome  # the call flow's word wins
    attempt.outcome = final_outcome
    attempt.ended_at = now
    attempt.hangup_cause = attempt.hangup_cause or cause
    attempt.call_id = attempt.call_id or call_id
    session.add(attempt)
    contact.last_outcome = final_outcome
    contact.last_call_id = attempt.call_id or contact.last_call_id
    contact.updated_at = now
    if contact.state == ContactState.DIALING:
        if contact.opted_out:
            contact.state, contact.next_attempt_at = ContactState.OPTED_OUT, None
        else:
            step = rules.after_attempt(final_outcome, contact.attempts, now)
            contact.state, contact.next_attempt_at = step.state, step.next_attempt_at
    campaign = await session.get(Campaign, contact.campaign_id, populate_existing=True)
    assert campaign is not None
    if contact.state == ContactState.FAILED and campaign.sms_fallback and contact.sms_id is None:
        contact.sms_id = await _text_unreached(session, campaign, contact, now)
    session.add(contact)
    await session.flush()
    await complete_if_done(session, campaign, now)
    return contact.state


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
