"""An attempt's start and end (campaigns/attempts.py), the same for the message engine and
the agent dialer, on SQLite and PostgreSQL: one winner when two dialers claim a contact,
the call flow's outcome wins over the dialer's guess, the dialing rules move the contact,
finishing twice changes nothing, the unreached get a text, the campaign completes at its
last final contact."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from campaigns.attempts import Ending, finish_attempt, finish_attempts, start_attempt
from campaigns.rules import DialingRules
from db.models.campaigns import (
    AttemptOutcome,
    Campaign,
    CampaignAttempt,
    CampaignContact,
    CampaignKind,
    CampaignState,
    ContactState,
    SmsMessage,
)
from hotline.services import Services
from tests.harness.http_app import api_services
from tests.integration.campaigns.campaigns_support import SH, TEXT, T


@pytest.fixture
async def services(db_url: str) -> AsyncIterator[Services]:
    async with api_services(db_url) as s:
        yield s


async def campaign_with(
    services: Services, numbers: list[str], *, sms_fallback: bool = False, max_attempts: int = 2
) -> tuple[int, list[int]]:
    async with services.sessions() as s:
        campaign = Campaign(
            name="欠费提醒", kind=CampaignKind.MESSAGE, state=CampaignState.RUNNING,
            script={"text": TEXT}, rules={"max_attempts": max_attempts},
            sms_fallback=sms_fallback, sms_text=TEXT if sms_fallback else None,
        )  # fmt: skip
        s.add(campaign)
        await s.flush()
        assert campaign.id is not None
        contacts = [
            CampaignContact(
                campaign_id=campaign.id, number=n, name="王芳", data={"arrears": "128.5"}
            )
            for n in numbers
        ]
        s.add_all(contacts)
        await s.commit()
        return campaign.id, [c.id for c in contacts if c.id is not None]


def rules_of(services: Services, max_attempts: int = 2) -> DialingRules:
    return DialingRules.of(services.settings, None, {"max_attempts": max_attempts})


async def start(services: Services, contact_id: int, expected: int, tag: str) -> int | None:
    async with services.sessions() as s:
        attempt_id = await start_attempt(
            s, contact_id, expected_attempts=expected, linkedid=f"hlcp-{tag}", now=T
        )
        await s.commit()
        return attempt_id


async def finish(
    services: Services, attempt_id: int, outcome: AttemptOutcome, at: dt.datetime = T
) -> ContactState:
    async with services.sessions() as s:
        state = await finish_attempt(
            s, attempt_id, outcome, rules=rules_of(services), now=at, cause="17"
        )
        await s.commit()
        return state


async def contact(services: Services, contact_id: int) -> CampaignContact:
    async with services.sessions() as s:
        row = await s.get(CampaignContact, contact_id)
        assert row is not None
        return row


async def test_given_two_dialers_claiming_one_contact_then_one_wins(services: Services) -> None:
    _, [cid] = await campaign_with(services, ["13900000001"])
    a, b = await asyncio.gather(start(services, cid, 0, "a"), start(services, cid, 0, "b"))
    assert [x is None for x in (a, b)].count(True) == 1
    row = await contact(services, cid)
    assert (row.state, row.attempts) == (ContactState.DIALING, 1)
    async with services.sessions() as s:
        attempts = (await s.exec(select(CampaignAttempt))).all()
    assert [(x.contact_id, x.attempt) for x in attempts] == [(cid, 1)]
    # A dialer with a stale view (expected 0 attempts, contact now dialing) gets nothing.
    assert await start(services, cid, 0, "c") is None


async def test_given_a_busy_line_then_the_contact_is_retried_at_its_interval(
    services: Services,
) -> None:
    _, [cid] = await campaign_with(services, ["13900000001"])
    attempt_id = await start(services, cid, 0, "a")
    assert attempt_id is not None
    assert await finish(services, attempt_id, AttemptOutcome.BUSY) == ContactState.PENDING
    row = await contact(services, cid)
    assert row.last_outcome == AttemptOutcome.BUSY
    assert row.next_attempt_at is not None
    assert row.next_attempt_at.astimezone(SH) == T + dt.timedelta(minutes=10)
    async with services.sessions() as s:
        attempt = await s.get(CampaignAttempt, attempt_id)
    assert attempt is not None
    assert (attempt.outcome, attempt.hangup_cause) == (AttemptOutcome.BUSY, "17")
    assert attempt.ended_at is not None


async def test_given_the_call_flow_wrote_an_outcome_then_it_wins_and_finishing_twice_changes_nothing(
    services: Services,
) -> None:
    campaign_id, [cid, other] = await campaign_with(services, ["13900000001", "13900000002"])
    attempt_id = await start(services, cid, 0, "a")
    assert attempt_id is not None
    async with services.sessions() as s:  # the call flow, while the customer was on the line
        attempt = await s.get(CampaignAttempt, attempt_id)
        assert attempt is not None
        attempt.outcome, attempt.answered_at = AttemptOutcome.ANSWERED, T
        s.add(attempt)
        await s.commit()
    # The engine saw a normal clearing after an answer: it guesses hangup; the flow's word wins.
    assert await finish(services, attempt_id, AttemptOutcome.HANGUP) == ContactState.DONE
    before = await contact(services, cid)
    assert before.last_outcome == AttemptOutcome.ANSWERED
    later = T + dt.timedelta(minutes=5)
    assert await finish(services, attempt_id, AttemptOutcome.FAILED, later) == ContactState.DONE
    after = await contact(services, cid)
    assert after.model_dump() == before.model_dump()
    async with services.sessions() as s:
        attempt = await s.get(CampaignAttempt, attempt_id)
        campaign = await s.get(Campaign, campaign_id)
    assert attempt is not None
    assert campaign is not None
    assert attempt.outcome == AttemptOutcome.ANSWERED
    assert campaign.state == CampaignState.RUNNING  # the other contact is still pending
    assert (await contact(services, other)).state == ContactState.PENDING


async def test_given_the_last_attempt_unreached_then_a_text_and_the_campaign_completes(
    services: Services,
) -> None:
    campaign_id, [cid] = await campaign_with(services, ["13900000001"], sms_fallback=True)
    first = await start(services, cid, 0, "a")
    assert first is not None
    assert await finish(services, first, AttemptOutcome.NO_ANSWER) == ContactState.PENDING
    assert (await contact(services, cid)).sms_id is None  # not the last attempt yet
    second = await start(services, cid, 1, "b")
    assert second is not None
    later = T + dt.timedelta(hours=1)
    assert await finish(services, second, AttemptOutcome.NO_ANSWER, later) == ContactState.FAILED
    row = await contact(services, cid)
    assert row.sms_id is not None
    assert row.next_attempt_at is None
    # Finishing again queues no second text.
    assert await finish(services, second, AttemptOutcome.NO_ANSWER, later) == ContactState.FAILED
    async with services.sessions() as s:
        texts = (await s.exec(select(SmsMessage))).all()
        campaign = await s.get(Campaign, campaign_id)
    assert [(t.id, t.number, t.reason, t.campaign_id) for t in texts] == [
        (row.sms_id, "13900000001", "campaign", campaign_id)
    ]
    assert texts[0].text.startswith("王芳您好")
    assert "128.50" in texts[0].text
    assert campaign is not None
    assert campaign.state == CampaignState.COMPLETED
    assert campaign.ended_at is not None


async def test_given_a_contact_that_opted_out_during_the_call_then_it_ends_opted_out(
    services: Services,
) -> None:
    _, [cid] = await campaign_with(services, ["13900000001"])
    attempt_id = await start(services, cid, 0, "a")
    assert attempt_id is not None
    async with services.sessions() as s:  # key 9: the flow marks the contact
        row = await s.get(CampaignContact, cid)
        assert row is not None
        row.opted_out = True
        s.add(row)
        await s.commit()
    assert await finish(services, attempt_id, AttemptOutcome.HANGUP) == ContactState.OPTED_OUT
    assert (await contact(services, cid)).next_attempt_at is None


async def test_given_a_cancelled_contact_then_no_attempt_starts(services: Services) -> None:
    _, [cid] = await campaign_with(services, ["13900000001"])
    async with services.sessions() as s:  # the campaign was stopped
        row = await s.get(CampaignContact, cid)
        assert row is not None
        row.state = ContactState.CANCELLED
        s.add(row)
        await s.commit()
    assert await start(services, cid, 0, "a") is None


async def test_given_two_finishes_of_the_same_attempts_at_once_then_each_contact_moves_once(
    services: Services,
) -> None:
    # A stale sweep and the bus's late call ends finish the same attempts in two
    # transactions at once (CI): each unreached contact gets one text, not two.
    numbers = [f"139000001{n:02d}" for n in range(12)]
    _, cids = await campaign_with(services, numbers, sms_fallback=True, max_attempts=1)
    attempts = [await start(services, cid, 0, f"t{cid}") for cid in cids]
    endings = [Ending(a, AttemptOutcome.NO_ANSWER, "19") for a in attempts if a is not None]
    assert len(endings) == len(cids)

    async def rules(_campaign: Campaign) -> DialingRules:
        return rules_of(services, max_attempts=1)

    async def sweep(order: list[Ending]) -> list[bool]:
        async with services.sessions() as s:
            done = await finish_attempts(s, order, rules_of=rules, now=T)
            await s.commit()
            return [f.moved for f in done]

    first, second = await asyncio.gather(sweep(endings), sweep(endings[::-1]))
    assert first.count(True) + second.count(True) == len(cids)
    async with services.sessions() as s:
        texts = (await s.exec(select(SmsMessage))).all()
        rows = (await s.exec(select(CampaignContact))).all()
    assert sorted(t.number for t in texts) == numbers
    assert {r.state for r in rows} == {ContactState.FAILED}
    assert {r.sms_id for r in rows} == {t.id for t in texts}
