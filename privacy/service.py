"""One customer's personal data on request (PIPL): export everything, or erase it.

Export: the file, phones, calls, tickets, surveys, callbacks and follow-ups as one JSON
document (audited "customer.exported").

Erasure pseudonymises, it deletes nothing that is history: the customer row stays (name
"已删除客户 #<id>", address, postcode and notes cleared), the phone list goes (not
history), and the numbers left in history rows are masked (calls' caller numbers,
tickets' contact, callbacks, follow-ups; phones inside ticket descriptions and survey
comments). Tickets keep their trail: ticket_events and audit_log are append-only and
untouched. Pending callbacks and follow-ups of the person are cancelled (nobody to call).
The account and meter numbers stay: they name the supply point, which billing keeps.
A `customer_erasures` row marks it; a second request changes nothing and says so.
Audited "customer.erased" in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from customers.file import get_customer
from customers.views import CallSummary, CustomerDetails, SurveySummary
from db.models import (
    Call,
    CallbackRequest,
    CallbackState,
    CustomerErasure,
    CustomerPhone,
    Direction,
    FollowUp,
    FollowUpState,
    Survey,
    Ticket,
)
from kernel.audit import Actor, audit_row, write_audit
from kernel.clock import Clock
from kernel.masking import mask_phone, mask_phones_in_text

EXPORTED = "customer.exported"
ERASED = "customer.erased"
_TICKET_FIELDS = (
    "id", "number", "category", "priority", "state", "department", "subject", "description",
    "contact_name", "contact_number", "created_at", "resolution_due_at",
)  # fmt: skip
_OPEN_CALLBACKS = (CallbackState.PENDING, CallbackState.RETRY_WAIT)
_OPEN_FOLLOW_UPS = (FollowUpState.PENDING,)


def pseudonym(customer_id: int) -> str:
    return f"已删除客户 #{customer_id}"


class ErasureOut(BaseModel):
    customer_id: int
    erased_at: dt.datetime
    already_erased: bool
    phones_removed: int
    calls_masked: int
    tickets_masked: int
    callbacks_masked: int
    follow_ups_masked: int


def _row(obj: Any, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = obj.model_dump(mode="json")
    return {k: data.get(k) for k in fields} if fields else data


async def export_customer(
    session: AsyncSession, customer_id: int, actor: Actor, clock: Clock
) -> dict[str, Any]:
    """Everything held about one customer; audited before it is returned."""
    customer = await get_customer(session, customer_id)
    calls = (
        await session.exec(
            select(Call).where(Call.customer_id == customer_id).order_by(col(Call.started_at))
        )
    ).all()
    tickets = (
        await session.exec(
            select(Ticket).where(Ticket.customer_id == customer_id).order_by(col(Ticket.id))
        )
    ).all()
    surveys = (
        await session.exec(
            select(Survey).where(Survey.customer_id == customer_id).order_by(col(Survey.id))
        )
    ).all()
    callbacks = (
        await session.exec(
            select(CallbackRequest)
            .where(CallbackRequest.customer_id == customer_id)
            .order_by(col(CallbackRequest.id))
        )
    ).all()
    follow_ups = (
        await session.exec(
            select(FollowUp).where(FollowUp.customer_id == customer_id).order_by(col(FollowUp.id))
        )
    ).all()
    erasure = await session.get(CustomerErasure, customer_id)
    now = clock.now()
    document = {
        "exported_at": now.isoformat(),
        "customer": CustomerDetails.of(customer).model_dump(mode="json"),
        "erased_at": erasure.erased_at.isoformat() if erasure else None,
        "calls": [CallSummary.of(c).model_dump(mode="json") for c in calls],
        "tickets": [_row(t, _TICKET_FIELDS) for t in tickets],
        "surveys": [SurveySummary.of(s).model_dump(mode="json") for s in surveys],
        "callbacks": [_row(c) for c in callbacks],
        "follow_ups": [_row(f) for f in follow_ups],
    }
    counts = {k: len(v) for k, v in document.items() if isinstance(v, list)}
    row = audit_row(
        actor=actor,
        action=EXPORTED,
        object_type="customer",
        object_id=customer_id,
        detail=counts,
        at=now,
    )
    await write_audit(session, [row])
    await session.commit()
    return document


async def erase_customer(
    session: AsyncSession,
    customer_id: int,
    actor: Actor,
    clock: Clock,
    reason: str | None = None,
) -> ErasureOut:
    customer = await get_customer(session, customer_id)
    done = await session.get(CustomerErasure, customer_id)
    if done is not None:
        return ErasureOut(
            customer_id=customer_id,
            erased_at=done.erased_at,
            already_erased=True,
            phones_removed=0,
            calls_masked=0,
            tickets_masked=0,
            callbacks_masked=0,
            follow_ups_masked=0,
        )
    now = clock.now()
    numbers = [p.number for p in customer.phones]
    customer.name = pseudonym(customer_id)
    customer.address = ""
    customer.postcode = ""
    customer.notes = None
    customer.pin_hash = None  # the IVR PIN: a secret of the person, gone with them
    customer.updated_at = now
    session.add(customer)
    await session.exec(delete(CustomerPhone).where(col(CustomerPhone.customer_id) == customer_id))

    calls = (
        await session.exec(
            select(Call).where(
                sa.or_(col(Call.customer_id) == customer_id, col(Call.caller_number).in_(numbers))
            )
        )
    ).all()
    for call in calls:
        call.caller_number = mask_phone(call.caller_number) or ""
        call.caller_name = None
        if call.direction == Direction.OUTBOUND:
            call.dialed_number = mask_phone(call.dialed_number) or ""
        session.add(call)

    tickets = (await session.exec(select(Ticket).where(Ticket.customer_id == customer_id))).all()
    for ticket in tickets:
        ticket.contact_number = mask_phone(ticket.contact_number)
        ticket.contact_name = pseudonym(customer_id) if ticket.contact_name else None
        ticket.description = mask_phones_in_text(ticket.description or "")
        session.add(ticket)

    surveys = (await session.exec(select(Survey).where(Survey.customer_id == customer_id))).all()
    for survey in surveys:
        if survey.comments:
            survey.comments = mask_phones_in_text(survey.comments)
            session.add(survey)

    callbacks = (
        await session.exec(
            select(CallbackRequest).where(
                sa.or_(
                    col(CallbackRequest.customer_id) == customer_id,
                    col(CallbackRequest.number).in_(numbers),
                )
            )
        )
    ).all()
    for callback in callbacks:
        callback.number = mask_phone(callback.number) or ""
        if callback.state in _OPEN_CALLBACKS:
            callback.state = CallbackState.CANCELLED
            callback.outcome = "customer data erased"
        session.add(callback)

    follow_ups = (
        await session.exec(select(FollowUp).where(FollowUp.customer_id == customer_id))
    ).all()
    for follow_up in follow_ups:
        follow_up.number = mask_phone(follow_up.number)
        if follow_up.state in _OPEN_FOLLOW_UPS:
            follow_up.state = FollowUpState.CANCELLED
            follow_up.outcome = "customer data erased"
        session.add(follow_up)

    session.add(
        CustomerErasure(
            customer_id=customer_id, erased_at=now, erased_by_id=actor.id, reason=reason
        )
    )
    out = ErasureOut(
        customer_id=customer_id,
        erased_at=now,
        already_erased=False,
        phones_removed=len(numbers),
        calls_masked=len(calls),
        tickets_masked=len(tickets),
        callbacks_masked=len(callbacks),
        follow_ups_masked=len(follow_ups),
    )
    await session.flush()
    detail = out.model_dump(mode="json", exclude={"customer_id", "erased_at", "already_erased"})
    row = audit_row(
        actor=actor,
        action=ERASED,
        object_type="customer",
        object_id=customer_id,
        detail={**detail, "reason": reason},
        at=now,
    )
    await write_audit(session, [row])
    await session.commit()
    return out
