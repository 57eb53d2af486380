"""The customers of tests/ivr_scenarios.py (ZHANG, LI) as database rows, for the IVR
tests of every front end (FastAGI, classic AGI, Twilio, the customer reader)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import Customer, CustomerPhone, Language, Tier
from ivr.script import CustomerInfo
from tests.ivr_scenarios import LI, ZHANG, ZHANG_PHONE

# (number, is_primary) per customer: by default Zhang has the mobile, Li no phone.
Phones = Sequence[tuple[str, bool]]
DEFAULT_PHONES: dict[CustomerInfo, Phones] = {ZHANG: [(ZHANG_PHONE, True)], LI: []}


def customer_row(c: CustomerInfo) -> Customer:
    return Customer(
        name=c.name,
        account_number=c.account_number,
        tier=Tier(c.tier),
        language=Language(c.language),
        district=c.district,
        address=f"{c.district}人民路1号",
        balance=c.balance,
        arrears=c.arrears,
        last_payment_on=c.last_payment_on,
        last_payment_amount=c.last_payment_amount,
    )


async def seed_ivr_customers(
    sessions: async_sessionmaker[AsyncSession],
    phones: Mapping[CustomerInfo, Phones] | None = None,
) -> dict[int, int]:
    """The customers in the database, with their phones: scenario id (CustomerInfo.id)
    -> row id."""
    ids: dict[int, int] = {}
    async with sessions() as s:
        for info, numbers in (phones or DEFAULT_PHONES).items():
            row = customer_row(info)
            s.add(row)
            await s.flush()
            assert row.id is not None
            ids[info.id] = row.id
            for number, primary in numbers:
                s.add(CustomerPhone(customer_id=row.id, number=number, is_primary=primary))
        await s.commit()
    return ids
