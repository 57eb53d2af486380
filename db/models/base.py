"""What every table module shares: the metadata's naming convention and field helpers.

The naming convention gives every index and constraint a stable, explicit name, which
Alembic needs to alter them later (SQLite batch mode recreates tables by name).

Deletion policy: no foreign key cascades anything. Every FK is the database default
(NO ACTION), so deleting a row that history points at fails loudly instead of taking the
history with it; relationships use passive_deletes="all" so the ORM never nulls children.
"""

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.types import BigId, JsonValue, Money, UtcDateTime, str_enum

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

# Relationship options: load eagerly or fail loudly (lazy loads fail under asyncio anyway)
# and never let the ORM rewrite children when a parent is deleted.
NO_LAZY: dict[str, Any] = {"lazy": "raise", "passive_deletes": "all"}
EAGER: dict[str, Any] = {"lazy": "selectin", "passive_deletes": "all"}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def id_field() -> Any:
    return Field(default=None, primary_key=True)


def big_id_field() -> Any:
    return Field(default=None, primary_key=True, sa_type=BigId)


def at_field(*, index: bool = False, default_now: bool = False, nullable: bool = True) -> Any:
    """An aware-UTC timestamp column."""
    if default_now:
        return Field(default_factory=utcnow, sa_type=UtcDateTime, index=index, nullable=False)
    return Field(default=None, sa_type=UtcDateTime, index=index, nullable=nullable)


def money_field(default: Decimal | None = Decimal("0.00")) -> Any:
    return Field(default=default, sa_type=Money, nullable=default is None)


def enum_field(enum: type[StrEnum], default: Any = ..., *, index: bool = False) -> Any:
    nullable = default is None
    if default is ...:
        return Field(sa_type=str_enum(enum), index=index, nullable=False)
    return Field(default=default, sa_type=str_enum(enum), index=index, nullable=nullable)


def json_field(default_factory: Any = list) -> Any:
    return Field(default_factory=default_factory, sa_type=JsonValue, nullable=False)


def text_field(default: str | None = None) -> Any:
    return Field(default=default, sa_type=sa.Text, nullable=default is None)


def fk(target: str, *, index: bool = False, big: bool = False, nullable: bool = True) -> Any:
    """A foreign key with no ON DELETE action (see the module docstring)."""
    kwargs: dict[str, Any] = {"foreign_key": target, "index": index, "nullable": nullable}
    if big:
        kwargs["sa_type"] = BigId
    if nullable:
        kwargs["default"] = None
    return Field(**kwargs)
