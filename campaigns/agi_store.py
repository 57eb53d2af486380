"""The SQL of the campaign call flow (campaigns/agi.py): what an answered attempt is
about, and what the customer did.

- load(attempt_id): the attempt, its contact, its campaign and the contact's customer.
- answered(): answered_at and the AMD verdict, with a provisional outcome `hangup`, so
  that the engine, which reads the outcome when the call ends, finds `hangup` if the
  customer leaves before the flow ends (the flow's end overwrites it).
- machine(): outcome `machine`.
- record(): the flow's result on the contact (keys appended, answers, confirmed, opted
  out, the call) and the attempt's outcome, in one transaction; an opt-out also puts the
  number on the do-not-call list (reason opt_out), which no campaign dials again.
- survey(): a surveys row (method phone) so the survey reports count campaign answers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from cti.calllog.writer import ensure_call
from db.models import Customer, Survey, SurveyMethod
from db.models.campaigns import (
    AttemptOutcome,
    Campaign,
    CampaignAttempt,
    CampaignContact,
    DoNotCall,
)
from hotline.services import Services

KEYS_MAX = 200  # campaign_contacts.keys


@dataclass(frozen=True)
class CustomerFile:
    id: int
    name: str
    account: str
    district: str
    tier: str
    language: str
    arrears: Any
    balance: Any

    def fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "account": self.account,
            "district": self.district,
            "arrears": self.arrears,
            "balance": self.balance,
        }


@dataclass(frozen=True)
class CallSubject:
    attempt_id: int
    campaign: Campaign
    contact: CampaignContact
    customer: CustomerFile | None


class CampaignCallStore:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def load(self, attempt_id: int) -> CallSubject | None:
        async with self._services.sessions() as session:
            attempt = await session.get(CampaignAttempt, attempt_id)
            if attempt is None:
                return None
            contact = await session.get(CampaignContact, attempt.contact_id)
            campaign = await session.get(Campaign, attempt.campaign_id)
            if contact is None or campaign is None:
                return None
            customer = (
                await session.get(Customer, contact.customer_id) if contact.customer_id else None
            )
        file = None
        if customer is not None and customer.id is not None:
            file = CustomerFile(
                id=customer.id,
                name=customer.name,
                account=customer.account_number,
                district=customer.district,
                tier=str(customer.tier.value if hasattr(customer.tier, "value") else customer.tier),
                language=str(
                    customer.language.value
                    if hasattr(customer.language, "value")
                    else customer.language
                ),
                arrears=customer.arrears,
                balance=customer.balance,
            )
        return CallSubject(attempt_id, campaign, contact, file)

    async def answered(self, attempt_id: int, amd_status: str | None, linkedid: str) -> None:
        now = self._services.clock.now()
        async with self._services.sessions() as session:
            attempt = await session.get(CampaignAttempt, attempt_id)
            if attempt is None:
                return
            attempt.answered_at = attempt.answered_at or now
            attempt.amd_status = (amd_status or None) and amd_status[:20]
            attempt.outcome = AttemptOutcome.HANGUP  # until the flow ends
            if attempt.call_id is None and linkedid:
                attempt.call_id = await ensure_call(session, linkedid)
            session.add(attempt)
            await session.commit()

    async def machine(self, attempt_id: int, amd_status: str, linkedid: str) -> None:
        now = self._services.clock.now()
        async with self._services.sessions() as session:
            attempt = await session.get(CampaignAttempt, attempt_id)
            if attempt is None:
                return
            attempt.answered_at = attempt.answered_at or now
            attempt.amd_status = amd_status[:20] or "MACHINE"
            attempt.outcome = AttemptOutcome.MACHINE
            if attempt.call_id is None and linkedid:
                attempt.call_id = await ensure_call(session, linkedid)
            session.add(attempt)
            await session.commit()

    async def record(
        self,
        subject: CallSubject,
        *,
        outcome: AttemptOutcome,
        keys: str,
        answers: dict[str, Any],
        confirmed: bool = False,
        opted_out: bool = False,
        ticket_id: int | None = None,
        linkedid: str = "",
    ) -> None:
        """The flow's result on the contact and the attempt (one transaction)."""
        now = self._services.clock.now()
        async with self._services.sessions() as session:
            attempt = await session.get(CampaignAttempt, subject.attempt_id)
            contact = await session.get(CampaignContact, subject.contact.id)
            if attempt is None or contact is None:
                return
            call_id = attempt.call_id
            if call_id is None and linkedid:
                call_id = await ensure_call(session, linkedid)
            attempt.outcome = outcome
            attempt.call_id = call_id
            session.add(attempt)
            contact.keys = (contact.keys + keys)[-KEYS_MAX:]
            contact.answers = {**(contact.answers or {}), **answers}
            contact.confirmed = contact.confirmed or confirmed
            contact.opted_out = contact.opted_out or opted_out
            contact.last_call_id = call_id or contact.last_call_id
            contact.ticket_id = ticket_id or contact.ticket_id
            contact.updated_at = now
            session.add(contact)
            if opted_out:
                await _do_not_call(session, contact, now)
            await session.commit()

    async def survey(
        self, subject: CallSubject, rating: int | None, answers: dict[str, int], linkedid: str
    ) -> Survey:
        now = self._services.clock.now()
        described = " ".join(f"{k}={v}" for k, v in answers.items())
        async with self._services.sessions() as session:
            call_id = await ensure_call(session, linkedid) if linkedid else None
            survey = Survey(
                call_id=call_id,
                customer_id=subject.contact.customer_id,
                method=SurveyMethod.PHONE,
                rating=rating,
                comments=f"campaign {subject.campaign.id}: {described}"[:1000],
                at=now,
            )
            session.add(survey)
            await session.commit()
            await session.refresh(survey)
        return survey


async def _do_not_call(session: Any, contact: CampaignContact, now: dt.datetime) -> None:
    listed = await session.exec(
        select(DoNotCall.id).where(
            DoNotCall.number == contact.number,
            DoNotCall.lifted_at.is_(None),  # type: ignore[union-attr]
        )
    )
    if listed.first() is not None:
        return
    session.add(
        DoNotCall(
            number=contact.number,
            customer_id=contact.customer_id,
            reason="opt_out",
            campaign_id=contact.campaign_id,
            note="按9退订",
            created_at=now,
        )
    )
