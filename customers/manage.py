"""Customer file management by staff: create, update (a tier move is audited with from/to),
add and remove phone numbers. The billing export goes through importer.py instead.

Functions take the request's session and commit; numbers are stored normalized
(db.phones.normalize_phone). Several customers may share a number (a family line).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from customers.file import CustomerNotFound
from db.models import Customer, CustomerPhone, Language, PhoneKind, Tier
from db.phones import is_mobile, normalize_phone
from kernel.audit import Actor, audit_row, write_audit
from kernel.clock import Clock


async def get_customer(session: AsyncSession, customer_id: int) -> Customer:
    """The row as stored now (fresh after a commit, phones loaded)."""
    customer = await session.get(Customer, customer_id, populate_existing=True)
    if customer is None:
        raise CustomerNotFound(customer_id)
    return customer


class CustomerConflict(ValueError):
    """The change would break a rule of the file (e.g. a duplicate account number)."""


class PhoneIn(BaseModel):
    number: str = Field(min_length=3, max_length=30, description="any format; stored normalized")
    label: str | None = Field(None, max_length=40)
    is_primary: bool = False


class CustomerIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    account_number: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z-]+$")
    address: str = Field("", max_length=200)
    district: str = Field("", max_length=40)
    postcode: str = Field("", max_length=10)
    tier: Tier = Tier.C
    balance: Decimal = Field(Decimal("0"), max_digits=12, decimal_places=2)
    arrears: Decimal = Field(Decimal("0"), ge=0, max_digits=12, decimal_places=2)
    meter_number: str | None = Field(None, max_length=32)
    language: Language = Language.ZH
    notes: str | None = Field(None, max_length=500)
    phones: list[PhoneIn] = Field(default_factory=list, max_length=10)


class CustomerChange(BaseModel):
    """Only the fields sent are changed."""

    name: str | None = Field(None, min_length=1, max_length=100)
    address: str | None = Field(None, max_length=200)
    district: str | None = Field(None, max_length=40)
    postcode: str | None = Field(None, max_length=10)
    tier: Tier | None = None
    meter_number: str | None = Field(None, max_length=32)
    language: Language | None = None
    notes: str | None = Field(None, max_length=500)
    reason: str | None = Field(None, max_length=200, description="kept in the audit trail")


def _number(raw: str) -> str:
    number = normalize_phone(raw)
    if not 5 <= len(number) <= 20:
        raise CustomerConflict(f"{raw!r} is not a phone number")
    return number


def _phone(customer_id: int, p: PhoneIn) -> CustomerPhone:
    number = _number(p.number)
    kind = PhoneKind.MOBILE if is_mobile(number) else PhoneKind.LANDLINE
    return CustomerPhone(
        customer_id=customer_id, number=number, kind=kind, label=p.label, is_primary=p.is_primary
    )


def _audit(
    actor: Any, action: str, customer_id: int, detail: dict[str, Any], clock: Clock
) -> dict[str, Any]:
    return audit_row(
        actor=Actor(actor.id, actor.username, actor.role.value),
        action=action,
        object_type="customer",
        object_id=customer_id,
        source="customers.manage",
        detail=detail,
        at=clock.now(),
    )


async def create_customer(
    session: AsyncSession, data: CustomerIn, actor: Any, clock: Clock
) -> Customer:
    taken = await session.exec(
        select(Customer.id).where(Customer.account_number == data.account_number)
    )
    if taken.first() is not None:
        raise CustomerConflict(f"account number {data.account_number} exists already")
    now = clock.now()
    customer = Customer(**data.model_dump(exclude={"phones"}), created_at=now, updated_at=now)
    session.add(customer)
    await session.flush()
    assert customer.id is not None
    numbers = {_number(p.number) for p in data.phones}
    if len(numbers) != len(data.phones):
        raise CustomerConflict("the same phone number is listed twice")
    for p in data.phones:
        session.add(_phone(customer.id, p))
    await write_audit(
        session, [_audit(actor, "customer.created", customer.id, {"tier": data.tier.value}, clock)]
    )
    await session.commit()
    return await get_customer(session, customer.id)


async def update_customer(
    session: AsyncSession, customer_id: int, change: CustomerChange, actor: Any, clock: Clock
) -> Customer:
    customer = await get_customer(session, customer_id)
    fields = change.model_dump(exclude_unset=True, exclude={"reason"})
    changed = {k: v for k, v in fields.items() if v is not None and getattr(customer, k) != v}
    if "tier" in changed:  # a tier move changes the caller's priority: who, when, why
        await write_audit(
            session,
            [
                _audit(
                    actor,
                    "customer.tier_changed",
                    customer_id,
                    {
                        "from": str(customer.tier),
                        "to": str(changed["tier"]),
                        "reason": change.reason,
                    },
                    clock,
                )
            ],
        )
    if changed:
        for key, value in changed.items():
            setattr(customer, key, value)
        customer.updated_at = clock.now()
        session.add(customer)
        detail = {"fields": sorted(changed), "reason": change.reason}
        await write_audit(session, [_audit(actor, "customer.updated", customer_id, detail, clock)])
        await session.commit()
    return await get_customer(session, customer_id)


async def add_phone(
    session: AsyncSession, customer_id: int, phone: PhoneIn, actor: Any, clock: Clock
) -> Customer:
    customer = await get_customer(session, customer_id)
    row = _phone(customer_id, phone)
    if any(p.number == row.number for p in customer.phones):
        raise CustomerConflict(f"{row.number} is already one of this customer's numbers")
    if phone.is_primary:
        for p in customer.phones:
            p.is_primary = False
            session.add(p)
    session.add(row)
    await write_audit(
        session, [_audit(actor, "customer.phone_added", customer_id, {"number": row.number}, clock)]
    )
    await session.commit()
    return await get_customer(session, customer_id)


async def remove_phone(
    session: AsyncSession, customer_id: int, number: str, actor: Any, clock: Clock
) -> Customer:
    customer = await get_customer(session, customer_id)
    wanted = normalize_phone(number)
    row = next((p for p in customer.phones if p.number == wanted), None)
    if row is None:
        raise CustomerConflict(f"{number} is not one of this customer's numbers")
    await session.delete(row)
    await write_audit(
        session, [_audit(actor, "customer.phone_removed", customer_id, {"number": wanted}, clock)]
    )
    await session.commit()
    return await get_customer(session, customer_id)
