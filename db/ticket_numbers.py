"""Human-readable ticket numbers: GD20261122-000123 (工单 + local day + daily sequence).

The counter is one row per day, bumped with a single INSERT .. ON CONFLICT DO UPDATE ..
RETURNING statement, which is atomic on SQLite (one writer) and PostgreSQL (row lock),
so concurrent agents never get the same number. The day is the center's local date
(config center.timezone), which the caller passes in.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.tickets import TicketSequence

PREFIX = "GD"


def format_ticket_number(day: dt.date, sequence: int, prefix: str = PREFIX) -> str:
    return f"{prefix}{day:%Y%m%d}-{sequence:06d}"


async def next_ticket_number(session: AsyncSession, day: dt.date, prefix: str = PREFIX) -> str:
    """Reserve the next number of `day` in the session's transaction."""
    table = TicketSequence.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = insert(table).values(day=f"{day:%Y%m%d}", last=1)
    stmt = values.on_conflict_do_update(
        index_elements=[table.c.day], set_={"last": table.c.last + 1}
    ).returning(table.c.last)
    # Through the session's connection: same transaction, and no SQLModel warning about
    # session.execute() (this is a Core statement, not a model query).
    connection = await session.connection()
    sequence = (await connection.execute(stmt)).scalar_one()
    return format_ticket_number(day, int(sequence), prefix)
