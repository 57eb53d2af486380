"""Finding customers: the agent's search box (by caller ID: customers/lookup.py).

The search box takes one string and guesses what it is:
- digits (spaces, dashes, +86 allowed): a phone number (normalized; a full number matches
  exactly, 4+ digits match a number's prefix or ending), an account number (exact or
  prefix) or a meter number;
- anything else: a name substring, Chinese included ("伟" finds 张伟 and 王伟明), case-
  insensitive for Latin names; also an exact account or meter number with letters.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from customers.views import CustomerSummary
from db.models import Customer, CustomerPhone
from db.phones import normalize_phone

MAX_LIMIT = 100
_PHONEISH = re.compile(r"^[\d\s\-+()]+$")


class InvalidQuery(ValueError):
    """The search string cannot be searched for (empty, too short)."""


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search(session: AsyncSession, query: str, limit: int = 20) -> list[CustomerSummary]:
    text = query.strip()
    if not text:
        raise InvalidQuery("type a phone number, an account number or a name")
    limit = max(1, min(limit, MAX_LIMIT))
    if _PHONEISH.match(text):
        conditions = _number_conditions(text)
    else:
        pattern = f"%{like_escape(text)}%"
        conditions = [
            col(Customer.name).ilike(pattern, escape="\\"),
            col(Customer.account_number) == text,
            col(Customer.meter_number) == text,
        ]
    stmt = (
        select(Customer)
        .where(sa.or_(*conditions))
        .order_by(col(Customer.name), col(Customer.id))
        .limit(limit)
    )
    rows = (await session.exec(stmt)).all()
    return [CustomerSummary.of(c) for c in rows]


def _number_conditions(text: str) -> list[sa.ColumnElement[bool]]:
    digits = normalize_phone(text)
    if len(digits) < 4:
        raise InvalidQuery("type at least 4 digits of a phone or account number")
    escaped = like_escape(digits)
    phone_match = select(CustomerPhone.customer_id).where(
        sa.or_(
            col(CustomerPhone.number) == digits,
            col(CustomerPhone.number).like(f"{escaped}%", escape="\\"),
            col(CustomerPhone.number).like(f"%{escaped}", escape="\\"),
        )
    )
    raw = re.sub(r"\D", "", text)
    return [
        col(Customer.id).in_(phone_match),
        col(Customer.account_number) == raw,
        col(Customer.account_number).like(f"{like_escape(raw)}%", escape="\\"),
        col(Customer.meter_number) == raw,
    ]
