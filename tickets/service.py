"""TicketService: every change to a work order goes through here.

Callers: the agent API (tickets/api.py), the IVR (create_fault_ticket), routing and the
call log (link_call), the survey (tickets/survey_store.py), integrations
(tickets/inbound.py). Each command is one transaction that changes the ticket, appends
its ticket_events rows and webhook outbox rows (tickets/trail.py), keeps the SLA clocks
(tickets/clocks.py), the search index and first-contact resolution up to date, and
after the commit publishes the events on bus topic "ticket".
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlmodel import col, select

from db.models import Call, Ticket, TicketEvent, TicketPriority, TicketSource, TicketState, User
from db.phones import normalize_phone
from db.ticket_numbers import next_ticket_number
from hotline.services import Services
from tickets import followup_tasks, links, queries
from tickets.clocks import SlaClocks
from tickets.errors import InvalidTicket, TicketNotFound
from tickets.lifecycle import Action, action_for, apply
from tickets.records import TOPIC_TICKET, Actor, CreateResult, TicketDraft, TicketQuery
from tickets.trail import Trail
from tickets.unit_of_work import retry_locked

PAST = {
    Action.ASSIGN: "assigned",
    Action.UNASSIGN: "unassigned",
    Action.START: "started",
    Action.RESOLVE: "resolved",
    Action.INFORM: "informed",
    Action.CLOSE: "closed",
    Action.REOPEN: "reopened",
    Action.TRANSFER: "transferred",
}
EDITABLE = (
    "subject",
    "description",
    "priority",
    "category",
    "customer_id",
    "contact_number",
    "contact_name",
    "external_ref",
)


class TicketService:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._sessions = services.sessions
        self._clock = services.clock
        self.clocks = SlaClocks(services.settings)
        self._departments = {d.name for d in services.settings.tickets.departments}
        self._zone = zoneinfo.ZoneInfo(services.settings.center.timezone)

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
        linked as a repeat (detect_repeat=False forces a new ticket)."""
        category = self.clocks.category(draft.category)
        department = draft.department or category.department
        self._check_department(department)
        if not draft.subject.strip():
            raise InvalidTicket("a ticket needs a subject")
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
                        trail.record(
                            "repeat_contact",
                            note=draft.description or draft.subject,
                            data={"call_id": call},
                        )
                        if call is not None:
                            await links.link(session, existing.id, call, "repeat_call", actor.id)  # type: ignore[arg-type]
                        return await self._finish(trail, fcr=True), False, trail.messages
                number = await next_ticket_number(session, now.astimezone(self._zone).date())
                t = Ticket(
                    number=number,
                    category=draft.category,
                    priority=TicketPriority(draft.priority),
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

    # --- changing --------------------------------------------------------------------

    async def update(self, ticket_id: int, actor: Actor, **changes: Any) -> Ticket:
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise InvalidTicket(f"cannot edit {', '.join(sorted(unknown))}")

        async def change(trail: Trail) -> None:
            t = trail.ticket
            replan = False
            for name, value in changes.items():
                if name == "category":
                    self.clocks.category(value)
                    replan = True
                elif name == "priority":
                    value = TicketPriority(value)
                    replan = True
                elif name == "contact_number" and value:
                    value = normalize_phone(value)
                elif name == "subject" and not str(value).strip():
                    raise InvalidTicket("a ticket needs a subject")
                old = getattr(t, name)
                if old == value:
                    continue
                setattr(t, name, value)
                trail.record("updated", field=name, old=old, new=value)
            if replan:
                self.clocks.replan(t)

        return await self._mutate(ticket_id, actor, change)

    async def assign(self, ticket_id: int, assignee_id: int | None, actor: Actor) -> Ticket:
        async def change(trail: Trail) -> None:
            t = trail.ticket
            if assignee_id is not None and await trail.session.get(User, assignee_id) is None:
                raise InvalidTicket(f"no user {assignee_id}")
            action = Action.ASSIGN if assignee_id is not None else Action.UNASSIGN
            new_state = apply(TicketState(t.state), action)
            old, t.assignee_id = t.assignee_id, assignee_id
            state_from, t.state = t.state, new_state
            trail.record(
                PAST[action],
                field="assignee_id",
                old=old,
                new=assignee_id,
                data={"state_from": state_from.value, "state_to": new_state.value},
            )

        return await self._mutate(ticket_id, actor, change)

    async def transfer(self, ticket_id: int, department: str, reason: str, actor: Actor) -> Ticket:
        self._check_department(department)
        if not reason.strip():
            raise InvalidTicket("a transfer needs a reason")

        async def change(trail: Trail) -> None:
            t = trail.ticket
            if t.department == department:
                raise InvalidTicket(f"the ticket is already with {department}")
            new_state = apply(TicketState(t.state), Action.TRANSFER)
            old_dept, t.department = t.department, department
            old_assignee, t.assignee_id = t.assignee_id, None
            state_from, t.state = t.state, new_state
            trail.record(
                "transferred",
                field="department",
                old=old_dept,
                new=department,
                note=reason.strip(),
                data={
                    "assignee_from": old_assignee,
                    "state_from": state_from.value,
                    "state_to": new_state.value,
                },
            )

        return await self._mutate(ticket_id, actor, change)

    async def transition(
        self,
        ticket_id: int,
        target: Action | TicketState | str,
        actor: Actor,
        *,
        note: str | None = None,
        resolution: str | None = None,
    ) -> Ticket:
        """Move along the lifecycle: an Action, or a target state (mapped to its action)."""

        async def change(trail: Trail) -> None:
            t = trail.ticket
            state = TicketState(t.state)
            action = self._action(state, target)
            if action in (Action.ASSIGN, Action.UNASSIGN, Action.TRANSFER):
                raise InvalidTicket(f"use {action.value} for that")
            new_state = apply(state, action, has_assignee=t.assignee_id is not None)
            if action is Action.START and t.assignee_id is None and actor.id is not None:
                t.assignee_id = actor.id
                trail.record("assigned", field="assignee_id", new=actor.id)
            if action is Action.RESOLVE:
                text = (resolution or t.resolution or "").strip()
                if not text:
                    raise InvalidTicket("resolving needs a resolution text")
                if text != t.resolution:
                    trail.record("updated", field="resolution", old=t.resolution, new=text)
                    t.resolution = text
            t.state = new_state
            trail.record(PAST[action], field="state", old=state, new=new_state, note=note)
            await self._side_effects(trail, action)

        return await self._mutate(ticket_id, actor, change, fcr=True)

    @staticmethod
    def _action(state: TicketState, target: Action | TicketState | str) -> Action:
        if isinstance(target, Action):
            return target
        if isinstance(target, TicketState):
            return action_for(state, target)
        if target in {a.value for a in Action}:
            return Action(target)
        if target in {s.value for s in TicketState}:
            return action_for(state, TicketState(target))
        raise InvalidTicket(f"unknown action or state {target!r}")

    async def _side_effects(self, trail: Trail, action: Action) -> None:
        t, now, session = trail.ticket, trail.now, trail.session
        if action is Action.START:
            self.clocks.responded(t, now)
        elif action is Action.RESOLVE:
            self.clocks.resolved(t, now)
            if self.clocks.category(t.category).follow_up:
                task = await followup_tasks.schedule(session, self._services.settings, t, now)
                if task is not None:
                    trail.record(
                        "follow_up_scheduled",
                        data={
                            "follow_up_id": task.id,
                            "method": task.method.value,
                            "due_at": task.due_at.isoformat(),
                        },
                    )
        elif action is Action.INFORM:
            t.informed_at = now
        elif action is Action.CLOSE:
            t.closed_at = now
        elif action is Action.REOPEN:
            t.reopen_count += 1
            self.clocks.reopened(t, now)
            await followup_tasks.cancel_pending(session, t.id, now)  # type: ignore[arg-type]

    async def add_note(self, ticket_id: int, text: str, actor: Actor) -> Ticket:
        if not text.strip():
            raise InvalidTicket("an empty note")

        async def change(trail: Trail) -> None:
            trail.record("commented", note=text.strip())

        return await self._mutate(ticket_id, actor, change)

    async def link_call(
        self,
        ticket_id: int,
        actor: Actor,
        *,
        linkedid: str | None = None,
        call_id: int | None = None,
        relation: str = "related",
    ) -> bool:
        """Link a call (by Linkedid or calls.id); False if it was linked already."""
        linked = False

        async def change(trail: Trail) -> None:
            nonlocal linked
            session = trail.session
            call = await links.call_id_for(session, linkedid=linkedid, call_id=call_id)
            if call is None:
                raise InvalidTicket("link_call needs a linkedid or a call_id")
            linked = await links.link(session, trail.ticket.id, call, relation, actor.id)  # type: ignore[arg-type]
            if linked:
                trail.record("linked_call", new=call, data={"relation": relation})

        await self._mutate(ticket_id, actor, change, fcr=True)
        return linked

    async def archive(self, ticket_id: int, actor: Actor, archived: bool = True) -> Ticket:
        """Hide a closed ticket from working lists; it stays searchable and is never
        deleted (unarchive with archived=False)."""

        async def change(trail: Trail) -> None:
            t = trail.ticket
            if t.archived == archived:
                return
            if archived and t.state != TicketState.CLOSED:
                raise InvalidTicket("only closed tickets are archived")
            t.archived = archived
            t.archived_at = trail.now if archived else None
            trail.record(
                "archived" if archived else "unarchived",
                field="archived",
                old=not archived,
                new=archived,
            )

        return await self._mutate(ticket_id, actor, change)

    # --- reading ---------------------------------------------------------------------

    async def get(self, ticket_id: int) -> Ticket:
        async with self._sessions() as session:
            t = await session.get(Ticket, ticket_id)
        if t is None:
            raise TicketNotFound(ticket_id)
        return t

    async def get_by_number(self, number: str) -> Ticket:
        async with self._sessions() as session:
            found = await session.exec(select(Ticket).where(Ticket.number == number.upper()))
            t = found.first()
        if t is None:
            raise TicketNotFound(number)
        return t

    async def history(self, ticket_id: int) -> list[TicketEvent]:
        async with self._sessions() as session:
            rows = await session.exec(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket_id)
                .order_by(col(TicketEvent.at), col(TicketEvent.id))
            )
            return list(rows.all())

    async def search(self, query: TicketQuery) -> list[Ticket]:
        async with self._sessions() as session:
            return await queries.search(session, query)

    async def calls(self, ticket_id: int) -> list[tuple[Call, str]]:
        async with self._sessions() as session:
            return await links.calls_of(session, ticket_id)

    async def tickets_for_call(self, linkedid: str) -> list[Ticket]:
        async with self._sessions() as session:
            rows = await session.exec(
                select(Ticket)
                .join(links.TICKET_CALLS, links.TICKET_CALLS.c.ticket_id == Ticket.id)
                .join(Call, col(Call.id) == links.TICKET_CALLS.c.call_id)
                .where(Call.linkedid == linkedid)
                .order_by(col(Ticket.id))
            )
            return list(rows.all())

    # --- plumbing --------------------------------------------------------------------

    @property
    def _hooks(self) -> list[Any]:
        return list(self._services.settings.tickets.webhooks)

    def _check_department(self, name: str) -> None:
        if name not in self._departments:
            known = ", ".join(sorted(self._departments))
            raise InvalidTicket(f"unknown department {name!r} (known: {known})")

    async def _mutate(
        self,
        ticket_id: int,
        actor: Actor,
        change: Callable[[Trail], Awaitable[None]],
        *,
        fcr: bool = False,
    ) -> Ticket:
        async def work() -> tuple[Ticket, list[dict[str, Any]]]:
            async with self._sessions() as session:
                found = await session.exec(
                    select(Ticket).where(Ticket.id == ticket_id).with_for_update()
                )
                t = found.first()
                if t is None:
                    raise TicketNotFound(ticket_id)
                trail = Trail(session, t, actor, self._clock.now(), self._hooks)
                await change(trail)
                if not trail.events:
                    return t, []
                return await self._finish(trail, fcr=fcr), trail.messages

        ticket, messages = await retry_locked(work)
        await self._publish(messages)
        return ticket

    async def _finish(self, trail: Trail, *, fcr: bool) -> Ticket:
        """Clocks, trail, search index and FCR, then commit (inside the transaction)."""
        t, session = trail.ticket, trail.session
        self.clocks.refresh(t)
        await trail.flush()
        await queries.reindex(session, t)
        if fcr:
            await links.refresh_fcr(session, [t.id])  # type: ignore[list-item]
        await session.commit()
        return t

    async def _publish(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            await self._services.bus.publish(TOPIC_TICKET, message)
