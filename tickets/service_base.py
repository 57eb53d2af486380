"""The ticket service's shared plumbing: one transaction per command, then publish.

`_mutate` loads and locks the ticket, lets a command change it through a Trail, and
`_finish` keeps the SLA clocks, the trail (events + webhook outbox), the search index and
first-contact resolution in step before committing; SQLite lock conflicts re-run the
whole transaction (db/unit_of_work.py). Reading methods live here too.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Awaitable, Callable
from typing import Any

from sqlmodel import col, select

from db.models import Call, Ticket, TicketEvent
from db.unit_of_work import retry_locked
from hotline.services import Services
from kernel import topics
from kernel.audit import Actor
from tickets import links, queries
from tickets.clocks import SlaClocks
from tickets.errors import InvalidTicket, TicketNotFound
from tickets.records import TicketQuery
from tickets.trail import Trail


class TicketServiceBase:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._sessions = services.sessions
        self._clock = services.clock
        self.clocks = SlaClocks(services.settings)
        self._departments = {d.name for d in services.settings.tickets.departments}
        self._zone = zoneinfo.ZoneInfo(services.settings.center.timezone)

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
            await self._services.bus.publish(topics.TICKET, message)
