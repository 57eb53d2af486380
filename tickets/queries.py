"""Finding tickets: by number, customer, phone, state, category, department, assignee,
and full text (Chinese included). Archived tickets are found like any other unless the
query asks for active ones only: nothing is ever hidden for good."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from customers import lookup
from db.models import Ticket, TicketEvent, TicketState
from db.phones import normalize_phone
from db.search_index import SearchIndex
from db.textsearch import document_terms, needs_substring_scan, query_phrases
from tickets.records import TicketQuery

INDEX = SearchIndex("tickets")
MAX_LIMIT = 500


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search(session: AsyncSession, q: TicketQuery) -> list[Ticket]:
    stmt = select(Ticket)
    if q.number:
        if q.number.endswith("*"):
            prefix = _like_escape(q.number[:-1].upper())
            stmt = stmt.where(col(Ticket.number).like(prefix + "%", escape="\\"))
        else:
            stmt = stmt.where(Ticket.number == q.number.upper())
    if q.customer_id is not None:
        stmt = stmt.where(Ticket.customer_id == q.customer_id)
    if q.phone:
        number = normalize_phone(q.phone)
        owners = lookup.owner_ids(number)
        stmt = stmt.where(or_(Ticket.contact_number == number, col(Ticket.customer_id).in_(owners)))
    if q.states:
        stmt = stmt.where(col(Ticket.state).in_([TicketState(s) for s in q.states]))
    if q.category:
        stmt = stmt.where(Ticket.category == q.category)
    if q.department:
        stmt = stmt.where(Ticket.department == q.department)
    if q.assignee_id is not None:
        stmt = stmt.where(Ticket.assignee_id == q.assignee_id)
    if q.archived is not None:
        stmt = stmt.where(Ticket.archived == q.archived)
    if q.created_from is not None:
        stmt = stmt.where(col(Ticket.created_at) >= q.created_from)
    if q.created_to is not None:
        stmt = stmt.where(col(Ticket.created_at) < q.created_to)
    if q.text and q.text.strip():
        stmt = _with_text(stmt, q.text, session.get_bind().dialect.name)
    limit = max(1, min(q.limit, MAX_LIMIT))
    stmt = stmt.order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc())
    rows = await session.exec(stmt.offset(max(0, q.offset)).limit(limit))
    return list(rows.all())


def _with_text(stmt: SelectOfScalar[Ticket], text: str, dialect: str) -> SelectOfScalar[Ticket]:
    phrases = query_phrases(text)
    if not phrases:
        return stmt
    if needs_substring_scan(text):
        # A one-character word has no bigram: scan the text columns instead.
        for word in text.split():
            pattern = "%" + _like_escape(word) + "%"
            stmt = stmt.where(
                or_(
                    col(Ticket.subject).ilike(pattern, escape="\\"),
                    col(Ticket.description).ilike(pattern, escape="\\"),
                    col(Ticket.resolution).ilike(pattern, escape="\\"),
                )
            )
        return stmt
    match = INDEX.matching(dialect, phrases)
    return stmt.where(col(Ticket.id).in_(sa.select(match.c.id)))


async def ticket_terms(session: AsyncSession, t: Ticket) -> str:
    """What the index holds for a ticket: its texts, contact and every note."""
    notes = await session.exec(
        select(TicketEvent.note).where(
            TicketEvent.ticket_id == t.id, TicketEvent.action == "commented"
        )
    )
    return document_terms(
        t.number,
        t.subject,
        t.description,
        t.resolution,
        t.contact_name,
        t.contact_number,
        t.external_ref,
        *[n for n in notes.all() if n],
    )


async def reindex(session: AsyncSession, t: Ticket, extra_notes: Sequence[str] = ()) -> None:
    terms = await ticket_terms(session, t)
    if extra_notes:
        terms = " ".join([terms, document_terms(*extra_notes)])
    assert t.id is not None
    await INDEX.put(await session.connection(), t.id, terms)
