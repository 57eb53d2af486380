"""Privacy (privacy/, desk/access.py): which customer files an agent's own searches
returned (the files they may open outside a call, for a while), and the erasure mark of
a customer whose personal data was erased on request (the row stays, pseudonymised)."""

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.models.base import at_field, fk, id_field


class CustomerFileGrant(SQLModel, table=True):
    """A search returned this customer to this user: the file opens until expires_at."""

    __tablename__ = "customer_file_grants"
    __table_args__ = (
        sa.Index("ix_customer_file_grants_user_customer", "user_id", "customer_id", "expires_at"),
    )

    id: int | None = id_field()
    user_id: int = fk("users.id", nullable=False)
    customer_id: int = fk("customers.id", nullable=False)
    granted_at: dt.datetime = at_field(default_now=True)
    expires_at: dt.datetime = at_field(nullable=False)


class CustomerErasure(SQLModel, table=True):
    """One customer's personal data erased (PIPL): when, by whom. One row per customer:
    a second erasure request finds it and changes nothing."""

    __tablename__ = "customer_erasures"

    customer_id: int = Field(foreign_key="customers.id", primary_key=True)
    erased_at: dt.datetime = at_field(nullable=False)
    erased_by_id: int | None = fk("users.id")
    reason: str | None = Field(default=None, max_length=200)
