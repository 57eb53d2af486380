"""The customer file: one row per account, several phone numbers per customer."""

import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from db.models.base import EAGER, at_field, enum_field, fk, id_field, money_field


class Tier(StrEnum):
    """Seed 003: A key accounts, B growth business, C residential (see config `tiers`)."""

    A = "A"
    B = "B"
    C = "C"


class Language(StrEnum):
    ZH = "zh"
    EN = "en"


class PhoneKind(StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"
    OTHER = "other"


class CustomerBase(SQLModel):
    name: str = Field(max_length=100, index=True)
    account_number: str = Field(max_length=32, unique=True)
    address: str = Field(default="", max_length=200)
    district: str = Field(default="", max_length=40, index=True)
    postcode: str = Field(default="", max_length=10)
    tier: Tier = enum_field(Tier, Tier.C)
    # Positive balance = prepaid credit; arrears = amount overdue (应收款), never negative.
    balance: Decimal = money_field()
    arrears: Decimal = money_field()
    last_payment_on: dt.date | None = None
    last_payment_amount: Decimal | None = money_field(None)
    meter_number: str | None = Field(default=None, max_length=32, index=True)
    language: Language = enum_field(Language, Language.ZH)
    notes: str | None = Field(default=None, max_length=500)
    # IVR account self-service PIN (ivr/pin.py hash; settings.privacy.ivr_pin), never the digits.
    pin_hash: str | None = Field(default=None, max_length=200)


class Customer(CustomerBase, table=True):
    __tablename__ = "customers"
    __table_args__ = (
        # Prefix search on PostgreSQL under a non-C collation (LIKE '王%').
        sa.Index(
            "ix_customers_name_prefix",
            "name",
            postgresql_ops={"name": "varchar_pattern_ops"},
        ).ddl_if(dialect="postgresql"),
        sa.Index("ix_customers_tier_arrears", "tier", "arrears"),
    )

    id: int | None = id_field()
    created_at: dt.datetime = at_field(default_now=True)
    updated_at: dt.datetime = at_field(default_now=True)

    phones: list["CustomerPhone"] = Relationship(sa_relationship_kwargs=EAGER)


class CustomerPhoneBase(SQLModel):
    # Normalized with db.phones.normalize_phone: digits only, no +86, landlines keep the
    # area code's leading 0. Not unique: a family or a landlord may share a number.
    number: str = Field(max_length=20, index=True)
    kind: PhoneKind = enum_field(PhoneKind, PhoneKind.MOBILE)
    is_primary: bool = False
    label: str | None = Field(default=None, max_length=40)


class CustomerPhone(CustomerPhoneBase, table=True):
    __tablename__ = "customer_phones"
    __table_args__ = (sa.UniqueConstraint("customer_id", "number"),)

    id: int | None = id_field()
    customer_id: int = fk("customers.id", nullable=False)
    created_at: dt.datetime = at_field(default_now=True)
