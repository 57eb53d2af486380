"""TicketService: every change to a work order goes through here.

Callers: the agent API (tickets/api.py), the IVR (create_fault_ticket), routing and the
call log (link_call), the survey (followups/survey_store.py), integrations
(integrations/inbound.py). Each command is one transaction that changes the ticket, appends
its ticket_events rows and webhook outbox rows (tickets/trail.py), keeps the SLA clocks
(tickets/clocks.py), the search index and first-contact resolution up to date, and
after the commit publishes the events on bus topic "ticket".
"""

from __future__ import annotations

from typing import Any

from db.models import Ticket, TicketPriority, TicketState, User
from db.phones import normalize_phone
from kernel.audit import Actor
from tickets import followup_tasks, links
from tickets.errors import InvalidTicket
from tickets.lifecycle import Action, action_for, apply
from tickets.service_create import TicketCreation
from tickets.trail import Trail

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


class TicketService(TicketCreation):
    """Every change to a work order (see the module docstring); reading methods and the
    transaction plumbing come from TicketServiceBase."""

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
            # Whoever starts or resolves an unassigned ticket holds it from then on (and
            # is the agent its follow-up survey rates); components (id None) do not.
            starts = action in (Action.START, Action.RESOLVE)
            if starts and t.assignee_id is None and actor.id is not None:
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

    async def annotate(
        self,
        ticket_id: int,
        actor: Actor,
        action: str,
        *,
        note: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> Ticket:
        """A trail entry from another feature (e.g. "surveyed"); published as ticket.<action>."""

        async def change(trail: Trail) -> None:
            trail.record(action, note=note, data=data)

        return await self._mutate(ticket_id, actor, change)
