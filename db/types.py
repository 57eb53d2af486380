"""Column types that hold the project's data contracts on SQLite and PostgreSQL alike.

- `UtcDateTime`: aware datetimes only; a naive one is refused at bind time (it would be
  ambiguous: local time? UTC?). Values come back aware, in UTC, on both backends.
- `Money`: exact amounts (NUMERIC(14, 2)); floats and sub-cent values are refused instead
  of being rounded silently. SQLite keeps NUMERIC values as 8-byte REALs, which hold any
  14-digit amount exactly; reading back formats to two decimals, so round trips are exact.
- `str_enum(E)`: a VARCHAR holding the enum's values (no native PostgreSQL ENUM type, so
  adding a value later needs no type migration); rows load as enum members.
- `JsonValue`: JSON on SQLite, JSONB on PostgreSQL.
- `BigId`: 64-bit keys for tables that grow without bound (calls, events, audit), which
  must stay a plain INTEGER on SQLite so the key aliases its rowid and autoincrements.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.operators import OperatorType

CENT = Decimal("0.01")
MONEY_PRECISION = 14


class NaiveDatetimeError(ValueError):
    """A datetime without tzinfo was about to be stored."""


class UtcDateTime(sa.types.TypeDecorator[dt.datetime]):
    """TIMESTAMP WITH TIME ZONE on PostgreSQL; UTC text on SQLite. Aware in, aware UTC out."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def coerce_compared_value(self, op: OperatorType | None, value: Any) -> Any:
        if isinstance(value, dt.timedelta):
            return sa.Interval()
        return self

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected an aware datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(
                f"naive datetime {value.isoformat()} refused: store aware UTC datetimes "
                "(datetime.now(datetime.UTC))"
            )
        utc = value.astimezone(dt.UTC)
        # SQLite stores text without an offset: keep it UTC and comparable as text.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Money(sa.types.TypeDecorator[Decimal]):
    """An exact amount in yuan with two decimals (NUMERIC(14, 2))."""

    impl = sa.Numeric(MONEY_PRECISION, 2, asdecimal=True)
    cache_ok = True

    def coerce_compared_value(self, op: OperatorType | None, value: Any) -> Any:
        return self

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError(f"money must be a Decimal or int, not {type(value).__name__}")
        amount = Decimal(value)
        if not amount.is_finite() or amount != amount.quantize(CENT):
            raise ValueError(f"money {value} has more than two decimals (or is not finite)")
        if abs(amount) >= Decimal(10) ** (MONEY_PRECISION - 2):
            raise ValueError(f"money {value} does not fit NUMERIC({MONEY_PRECISION}, 2)")
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).quantize(CENT)


def str_enum(enum: type[StrEnum]) -> sa.Enum:
    """A VARCHAR column type for a StrEnum, storing `.value`s (not names)."""
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=max(20, *(len(m.value) for m in enum)),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


JsonValue = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
