"""Creating tickets: from a call, by an agent, from the IVR's fault report, from an
integration. Repeat contacts about an open ticket of the same customer and category
are linked to it instead of creating a duplicate (tickets/links.py); a repeat of a higher
priority raises that ticket, so an emergency is never absorbed by a lesser ticket
(tickets/repeats.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from db.models import Ticket, TicketPriority, TicketSource, TicketState
from db.phones import normalize_phone
from db.ticket_numbers import next_ticket_number
from db.unit_of_work import retry_locked
from kernel.audit import Actor
from tickets import links
from tickets.errors import InvalidTicket
from tickets.records import CreateResult, TicketDraft
from tickets.repeats import raised_priority
from tickets.service_base import TicketServiceBase
from tickets.trail import Trail


class TicketCreation(TicketServiceBase):
    # --- creating --------------------------------------------------------------------

    async def create(
        self,
        draft: TicketDraft,
        actor: Actor,
        *,
        linkedid: str | None = None,
        call_id: int | None = None,
        detect_repeat: bool = True,
    ) -> CreateResult:
        """A new ticket, linked to the call it came from; or, for a repeat contact about
        an open ticket of the same customer and category, that ticket with the call
        linked as a repeat, raised to the contact's priority if that is higher
        (detect_repeat=False forces a new ticket)."""
        category = self.clocks.category(draft.category)
        department = draft.department or category.department
        self._check_department(department)
        if not draft.subject.strip():
            raise InvalidTicket("a ticket needs a subject")
        try:
            priority = TicketPriority(draft.priority)
        except ValueError:
            known = ", ".join(p.value for p in TicketPriority)
            raise InvalidTicket(f"unknown priority {draft.priority!r} (known: {known})") from None
        contact = normalize_phone(draft.contact_number) if draft.contact_number else None

        async def work() -> tuple[Ticket, bool, list[dict[str, Any]]]:
            now = self._clock.now()
            async with self._sessions() as session:
                call = await links.call_id_for(session, linkedid=linkedid, call_id=call_id)
                if detect_repeat:
                    existing = await links.find_open_duplicate(
                        session,
                        category=draft.category,
                        customer_id=draft.customer_id,
                        contact_number=contact,
                    )
                    if existing is not None:
                        trail = Trail(session, existing, actor, now, self._hooks)
                        await self._repeat(trail, draft, priority, call)
                        return await self._finish(trail, fcr=True), False, trail.messages
                number = await next_ticket_number(session, now.astimezone(self._zone).date())
                t = Ticket(
                    number=number,
                    category=draft.category,
                    priority=priority,
                    department=department,
                    assignee_id=draft.assignee_id,
                    customer_id=draft.customer_id,
                    contact_number=contact,
                    contact_name=draft.contact_name,
                    subject=draft.subject.strip()[:200],
                    description=draft.description,
                    source=draft.source,
                    external_ref=draft.external_ref,
                    created_by_id=actor.id,
                    created_at=now,
                    updated_at=now,
                    state=TicketState.ASSIGNED if draft.assignee_id else TicketState.NEW,
                )
                self.clocks.plan_response(t)
                self.clocks.plan_resolution(t, now)
                trail = Trail(session, t, actor, now, self._hooks)
                trail.record(
                    "created",
                    field="state",
                    new=t.state,
                    data={"source": TicketSource(draft.source).value, "call_id": call},
                )
                session.add(t)
                await session.flush()  # the ticket's id, for the link
                if call is not None:
                    await links.link(session, t.id, call, "created_from", actor.id)  # type: ignore[arg-type]
                return await self._finish(trail, fcr=call is not None), True, trail.messages

        ticket, created, messages = await retry_locked(work)
        await self._publish(messages)
        return CreateResult(ticket, created)

    async def _repeat(
        self, trail: Trail, draft: TicketDraft, priority: TicketPriority, call: int | None
    ) -> None:
        """A repeat contact about trail.ticket: linked, and the ticket raised to the
        contact's priority if that is higher (tickets/repeats.py), SLA clocks tightened."""
        t = trail.ticket
        trail.record(
            "repeat_contact",
            note=draft.description or draft.subject,
            data={"call_id": call, "priority": priority.value},
        )
        raised = raised_priority(t.priority, priority)
        if raised is not None:
            old, t.priority = t.priority, raised
            before = (t.response_due_at, t.resolution_due_at)
            self.clocks.priority_raised(t, trail.now)
            trail.record(
                "priority_raised",
                field="priority",
                old=old,
                new=raised,
                note="repeat contact of a higher priority",
                data={
                    "call_id": call,
                    "due_before": [d.isoformat() if d else None for d in before],
                    "due_after": [
                        d.isoformat() if d else None
                        for d in (t.response_due_at, t.resolution_due_at)
                    ],
                },
            )
        if call is not None:
            assert t.id is not None
            await links.link(trail.session, t.id, call, "repeat_call", trail.actor.id)

    async def create_fault_ticket(
        self,
        *,
        linkedid: str,
        caller_number: str,
        customer_id: int | None = None,
        category: str = "repair",
        priority: str = "normal",
        description: str = "",
        facts: Mapping[str, str] | None = None,
    ) -> CreateResult:
        """The IVR's self-service fault report (no agent involved): a ticket from the call
        `linkedid`, or the caller's open ticket of that category with the call linked."""
        label = self.clocks.category(category).label.zh
        details = "；".join(f"{k}={v}" for k, v in (facts or {}).items())
        text = "\n".join(x for x in (description, details) if x)
        draft = TicketDraft(
            category=category,
            subject=f"自助报修：{label}",
            description=text or f"来电 {caller_number} 通过自助语音报修",
            priority=priority,
            customer_id=customer_id,
            contact_number=caller_number,
            source=TicketSource.IVR,
        )
        return await self.create(draft, Actor.system("ivr"), linkedid=linkedid)
