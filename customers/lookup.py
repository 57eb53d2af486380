"""The one customer-by-phone lookup: who owns a phone number.

Numbers are stored in customer_phones in one normal form (db/phones.normalize_phone), and
families or landlords share a number, so several customers may own one. Two questions,
one join:

- `candidates(session, number)`: everyone having the number, key accounts first (tier,
  then id); the screen pop shows them when more than one matches.
- `holder(session, number)`: the one customer who answers for the number, its primary
  holder, then the oldest; the IVR greets the caller with this one.
- `owner_ids(normalized)`: the same match as a subquery of customer ids, for searches of
  other things by a customer's phone (tickets).

ivr/customer_reader.py runs `holder` as one raw select for speed (same join, same order);
tests/integration/ivr/test_ivr_customer_reader.py checks both give the same customer.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from db.models import Customer, CustomerPhone
from db.phones import normalize_phone


def owner_ids(normalized: str) -> SelectOfScalar[Any]:
    """Ids of the customers having this (already normalized) number."""
    return select(CustomerPhone.customer_id).where(CustomerPhone.number == normalized)


async def candidates(session: AsyncSession, number: str, limit: int = 10) -> list[Customer]:
    """Customers having this phone number, key accounts first (several may match)."""
    normalized = normalize_phone(number)
    if not normalized:
        return []
    stmt = (
        select(Customer)
        .where(col(Customer.id).in_(owner_ids(normalized)))
        .order_by(col(Customer.tier), col(Customer.id))
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())


async def holder(session: AsyncSession, number: str) -> Customer | None:
    """The customer answering for this number: its primary holder, then the oldest."""
    normalized = normalize_phone(number)
    if not normalized:
        return None
    stmt = (
        select(Customer)
        .join(CustomerPhone, col(CustomerPhone.customer_id) == col(Customer.id))
        .where(CustomerPhone.number == normalized)
        .order_by(col(CustomerPhone.is_primary).desc(), col(Customer.id))
        .limit(1)
    )
    return (await session.exec(stmt)).first()
