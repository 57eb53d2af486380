"""What the customer queries return: plain pydantic views, JSON-ready for the API and the
screen-pop, independent of the ORM rows they are read from."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from db.models import Call, Customer, CustomerPhone, Survey, Ticket


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class PhoneView(View):
    number: str
    kind: str
    is_primary: bool
    label: str | None = None

    @classmethod
    def of(cls, p: CustomerPhone) -> PhoneView:
        return cls(number=p.number, kind=str(p.kind), is_primary=p.is_primary, label=p.label)


class CustomerSummary(View):
    """One search hit."""

    id: int
    name: str
    account_number: str
    tier: str
    district: str
    address: str
    phones: list[str]
    arrears: Decimal

    @classmethod
    def of(cls, c: Customer) -> CustomerSummary:
        assert c.id is not None
        return cls(
            id=c.id,
            name=c.name,
            account_number=c.account_number,
            tier=str(c.tier),
            district=c.district,
            address=c.address,
            phones=[p.number for p in sorted(c.phones, key=lambda p: not p.is_primary)],
            arrears=c.arrears,
        )


class CustomerDetails(View):
    id: int
    name: str
    account_number: str
    address: str
    district: str
    postcode: str
    tier: str
    balance: Decimal
    arrears: Decimal
    last_payment_on: dt.date | None
    last_payment_amount: Decimal | None
    meter_number: str | None
    language: str
    notes: str | None
    phones: list[PhoneView]

    @classmethod
    def of(cls, c: Customer) -> CustomerDetails:
        assert c.id is not None
        return cls(
            id=c.id,
            name=c.name,
            account_number=c.account_number,
            address=c.address,
            district=c.district,
            postcode=c.postcode,
            tier=str(c.tier),
            balance=c.balance,
            arrears=c.arrears,
            last_payment_on=c.last_payment_on,
            last_payment_amount=c.last_payment_amount,
            meter_number=c.meter_number,
            language=str(c.language),
            notes=c.notes,
            phones=[PhoneView.of(p) for p in sorted(c.phones, key=lambda p: not p.is_primary)],
        )


class CallSummary(View):
    id: int
    linkedid: str
    direction: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    caller_number: str
    dialed_number: str
    skill: str | None
    ivr_path: list[str]
    self_service_outcome: str | None
    disposition: str
    agent_id: int | None
    agents: list[str]
    customer_id: int | None
    wait_seconds: float
    talk_seconds: float
    wrap_code: str | None

    @classmethod
    def of(cls, c: Call) -> CallSummary:
        assert c.id is not None
        return cls(
            id=c.id,
            linkedid=c.linkedid,
            direction=str(c.direction),
            started_at=c.started_at,
            ended_at=c.ended_at,
            caller_number=c.caller_number,
            dialed_number=c.dialed_number,
            skill=c.skill,
            ivr_path=list(c.ivr_path or []),
            self_service_outcome=c.self_service_outcome,
            disposition=str(c.disposition),
            agent_id=c.agent_id,
            agents=list(c.agents or []),
            customer_id=c.customer_id,
            wait_seconds=c.wait_seconds,
            talk_seconds=c.talk_seconds,
            wrap_code=c.wrap_code,
        )


class TicketSummary(View):
    id: int
    number: str
    category: str
    priority: str
    state: str
    department: str
    subject: str
    created_at: dt.datetime
    resolution_due_at: dt.datetime | None

    @classmethod
    def of(cls, t: Ticket) -> TicketSummary:
        assert t.id is not None
        return cls(
            id=t.id,
            number=t.number,
            category=t.category,
            priority=str(t.priority),
            state=str(t.state),
            department=t.department,
            subject=t.subject,
            created_at=t.created_at,
            resolution_due_at=t.resolution_due_at,
        )


class SurveySummary(View):
    id: int
    at: dt.datetime
    method: str
    rating: int | None
    resolved: bool | None
    comments: str | None
    call_id: int | None
    ticket_id: int | None

    @classmethod
    def of(cls, s: Survey) -> SurveySummary:
        assert s.id is not None
        return cls(
            id=s.id,
            at=s.at,
            method=str(s.method),
            rating=s.rating,
            resolved=s.resolved,
            comments=s.comments,
            call_id=s.call_id,
            ticket_id=s.ticket_id,
        )


class CustomerFile(View):
    """The 360° file: who, what they owe, what they called about, what is still open."""

    customer: CustomerDetails
    open_tickets: list[TicketSummary]
    recent_tickets: list[TicketSummary]
    recent_calls: list[CallSummary]
    surveys: list[SurveySummary]
    average_rating: float | None

    def jsonable(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
