"""The audit trail of one change: ticket_events rows, webhook outbox rows, bus events.

Every change to a ticket is written as ticket_events rows (append-only: who, when, what,
from, to) in the same transaction as the change itself, together with one
webhook_deliveries row per configured endpoint that wants the event (a transactional
outbox: a crash between commit and delivery loses nothing, and the unique
(endpoint, event_id) key makes each event one delivery). After the commit the service
publishes each event on bus topic "ticket":
    {"type": "ticket.<action>", "event_id": "te-<ticket_events.id>", "at": iso,
     "ticket": <records.snapshot>, "change": {"action", "field", "from", "to", "note",
     "actor": {"id", "name"}, "data"}}
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import DeliveryState, Ticket, TicketEvent, WebhookDelivery
from kernel.audit import Actor
from kernel.config.care import WebhookSettings
from tickets.records import snapshot


def _text(value: object) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def wants(hook: WebhookSettings, event_type: str, category: str) -> bool:
    if hook.categories and category not in hook.categories:
        return False
    return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in hook.events)


@dataclass
class Trail:
    session: AsyncSession
    ticket: Ticket
    actor: Actor
    now: dt.datetime
    webhooks: list[WebhookSettings] = field(default_factory=list)
    events: list[TicketEvent] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)

    def record(
        self,
        action: str,
        *,
        field: str | None = None,
        old: object = None,
        new: object = None,
        note: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.events.append(
            TicketEvent(
                ticket_id=self.ticket.id,  # type: ignore[arg-type]  # set by flush for new tickets
                at=self.now,
                actor_id=self.actor.id,
                actor_name=self.actor.name[:80],
                action=action,
                field=field,
                from_value=_text(old),
                to_value=_text(new),
                note=note,
                data=data or {},
            )
        )

    async def flush(self) -> None:
        """Write the events and their outbox rows (call once, before commit)."""
        self.ticket.updated_at = self.now
        self.session.add(self.ticket)
        await self.session.flush()  # a new ticket gets its id
        for event in self.events:
            event.ticket_id = self.ticket.id  # type: ignore[assignment]
            self.session.add(event)
        await self.session.flush()
        ticket_view = snapshot(self.ticket)
        for event in self.events:
            event_type = f"ticket.{event.action}"
            event_id = f"te-{event.id}"
            message: dict[str, Any] = {
                "type": event_type,
                "event_id": event_id,
                "at": self.now.isoformat(),
                "ticket": ticket_view,
                "change": {
                    "action": event.action,
                    "field": event.field,
                    "from": event.from_value,
                    "to": event.to_value,
                    "note": event.note,
                    "actor": {"id": event.actor_id, "name": event.actor_name},
                    "data": event.data,
                },
            }
            self.messages.append(message)
            for hook in self.webhooks:
                if wants(hook, event_type, self.ticket.category):
                    self.session.add(
                        WebhookDelivery(
                            endpoint=hook.name,
                            url=hook.url,
                            event_type=event_type,
                            event_id=event_id,
                            ticket_id=self.ticket.id,
                            payload=message,
                            state=DeliveryState.PENDING,
                            next_attempt_at=self.now,
                            created_at=self.now,
                        )
                    )
        await self.session.flush()
