"""Persistence of callbacks (virtual hold): callback_requests rows, and the ticket a
callback becomes when the customer stays unreachable (or a voicemail overflow leaves).

The IVR's callback node may already have written the row for a call (it raises
call.callback_requested after writing), and AstDB keeps what the dialplan captured (see
routing/pbx/astdb.py): a row for the same origin call is reused, never duplicated.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cti.calllog.writer import ensure_call
from db.models import CallbackRequest, CallbackState, Customer, Ticket, TicketCall, TicketEvent
from db.models.tickets import TicketSource
from db.ticket_numbers import next_ticket_number
from kernel.clock import from_timestamp
from kernel.config import Settings

ACTIVE = (CallbackState.PENDING, CallbackState.DIALING, CallbackState.RETRY_WAIT)


@dataclass(frozen=True)
class CallbackRecord:
    id: int
    number: str
    skill: str
    priority: int
    language: str | None
    customer_id: int | None
    enqueued_at: float
    attempts: int
    next_attempt_at: float | None
    origin_call_id: int | None
    finished: bool = False  # completed, failed or cancelled: nothing left to do


def _record(row: CallbackRequest) -> CallbackRecord:
    assert row.id is not None
    return CallbackRecord(
        row.id,
        row.number,
        row.skill,
        row.priority,
        row.language,
        row.customer_id,
        row.original_enqueued_at.timestamp(),
        row.attempts,
        row.next_attempt_at.timestamp() if row.next_attempt_at else None,
        row.origin_call_id,
        row.state not in ACTIVE,
    )


class CallbackStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    async def find_or_create(
        self,
        *,
        linkedid: str | None,
        number: str,
        skill: str,
        priority: int,
        language: str | None,
        customer_id: int | None,
        enqueued_at: float,
    ) -> CallbackRecord:
        async with self._sessions() as session:
            origin = await ensure_call(session, linkedid) if linkedid else None
            if origin is not None:
                # One callback per origin call, whoever noticed the request first.
                found = (
                    await session.exec(
                        select(CallbackRequest)
                        .where(CallbackRequest.origin_call_id == origin)
                        .order_by(col(CallbackRequest.id).desc())
                    )
                ).first()
                if found is not None:
                    await session.commit()
                    return _record(found)
            if customer_id is not None and await session.get(Customer, customer_id) is None:
                customer_id = None
            row = CallbackRequest(
                number=number,
                customer_id=customer_id,
                skill=skill,
                priority=priority,
                language=language,
                original_enqueued_at=from_timestamp(enqueued_at),
                origin_call_id=origin,
            )
            session.add(row)
            await session.commit()
            return _record(row)

    async def active(self) -> list[CallbackRecord]:
        async with self._sessions() as session:
            rows = (
                await session.exec(
                    select(CallbackRequest)
                    .where(col(CallbackRequest.state).in_(ACTIVE))
                    .order_by(col(CallbackRequest.original_enqueued_at))
                )
            ).all()
            return [_record(r) for r in rows]

    async def update(
        self,
        callback_id: int,
        *,
        state: CallbackState,
        attempts: int | None = None,
        next_attempt_at: float | None = None,
        outcome: str | None = None,
        agent_id: int | None = None,
        linkedid: str | None = None,
        ticket_id: int | None = None,
    ) -> None:
        values: dict[str, object] = {"state": state.value, "updated_at": _now()}
        if attempts is not None:
            values["attempts"] = attempts
        values["next_attempt_at"] = (
            from_timestamp(next_attempt_at) if next_attempt_at is not None else None
        )
        if outcome is not None:
            values["outcome"] = outcome[:80]
        if agent_id is not None:
            values["agent_id"] = agent_id
        if ticket_id is not None:
            values["ticket_id"] = ticket_id
        table = CallbackRequest.__table__  # type: ignore[attr-defined]
        async with self._sessions() as session:
            if linkedid:
                values["last_call_id"] = await ensure_call(session, linkedid)
            conn = await session.connection()
            await conn.execute(sa.update(table).where(table.c.id == callback_id).values(**values))
            await session.commit()

    async def open_ticket(
        self,
        *,
        category: str,
        subject: str,
        description: str,
        number: str | None,
        customer_id: int | None,
        linkedid: str | None,
        relation: str,
    ) -> int:
        """A system ticket (source=system) for someone Hotline could not serve by phone.
        Deadlines use the category's normal SLA in calendar hours (the tickets feature
        may refine them with business hours)."""
        s = self._settings
        cat = next(c for c in s.tickets.categories if c.name == category)
        sla = cat.sla.get("normal") or next(iter(cat.sla.values()))
        now = _now()
        day = now.astimezone(zoneinfo.ZoneInfo(s.center.timezone)).date()
        async with self._sessions() as session:
            if customer_id is not None and await session.get(Customer, customer_id) is None:
                customer_id = None
            ticket = Ticket(
                number=await next_ticket_number(session, day),
                category=category,
                department=cat.department,
                customer_id=customer_id,
                contact_number=number,
                subject=subject[:200],
                description=description,
                source=TicketSource.SYSTEM,
                response_due_at=now + dt.timedelta(hours=sla.response_hours),
                resolution_due_at=now + dt.timedelta(hours=sla.resolution_hours),
            )
            session.add(ticket)
            await session.flush()
            assert ticket.id is not None
            session.add(
                TicketEvent(ticket_id=ticket.id, action="created", note=subject[:200], data={})
            )
            if linkedid:
                call_id = await ensure_call(session, linkedid)
                session.add(TicketCall(ticket_id=ticket.id, call_id=call_id, relation=relation))
            await session.commit()
            return ticket.id


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
