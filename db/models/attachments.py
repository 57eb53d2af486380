"""Work-order attachments: photos of a fault, documents (tickets/attachments.py).

The file lives under `attachments.root` (sealed with the at-rest key when one is set);
the row says what it is, who attached it and when. A row is never deleted (no route
removes one; the migration adds a trigger refusing DELETE), so what was attached to a
ticket stays known.
"""

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.models.base import at_field, big_id_field, fk


class TicketAttachment(SQLModel, table=True):
    __tablename__ = "ticket_attachments"
    __table_args__ = (
        sa.Index("ix_ticket_attachments_ticket_id_uploaded_at", "ticket_id", "uploaded_at"),
    )

    id: int | None = big_id_field()
    ticket_id: int = fk("tickets.id", nullable=False)
    filename: str = Field(max_length=200)  # as the uploader named it (display only)
    content_type: str = Field(max_length=60)  # from the file's first bytes, not the client
    size_bytes: int = Field(sa_type=sa.BigInteger)  # of the original file
    sha256: str = Field(max_length=64)  # of the original file
    path: str = Field(max_length=300, unique=True)  # relative to attachments.root
    sealed: bool = False  # encrypted at rest (HOTLINE_AT_REST_KEY)
    uploaded_by_id: int | None = fk("users.id")
    uploaded_by_name: str = Field(max_length=80)
    uploaded_at: dt.datetime = at_field(default_now=True)
