"""The business calendar's edits (admin/): holidays, adjusted working days and weekly
opening hours from a date on, made in the page and effective without a restart. They are
merged over config.yaml's `business_hours` by kernel/business_calendar.py."""

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlmodel import Field, SQLModel

from db.models.base import at_field, enum_field, json_field


class CalendarDayKind(StrEnum):
    HOLIDAY = "holiday"  # closed all day
    WORKING_DAY = "working_day"  # open (normal workday hours, or the row's own ranges)


class CalendarDay(SQLModel, table=True):
    """One date's exception, over config's holidays and extra working days."""

    __tablename__ = "calendar_days"

    day: dt.date = Field(primary_key=True)
    kind: CalendarDayKind = enum_field(CalendarDayKind)
    # [["08:00", "12:00"], ...] for a working day with its own hours; [] = a normal workday
    ranges: list[Any] = json_field()
    note: str = Field(default="", max_length=200)
    updated_by: str = Field(default="", max_length=80)
    updated_at: dt.datetime = at_field(default_now=True)


class CalendarWeek(SQLModel, table=True):
    """Weekly opening hours from `valid_from` on (until a later row), e.g. next year's."""

    __tablename__ = "calendar_weeks"

    valid_from: dt.date = Field(primary_key=True)
    # {"mon": [["08:00", "20:00"]], ..., "sun": []}; a weekday missing or [] is closed
    weekly: dict[str, Any] = json_field(dict)
    note: str = Field(default="", max_length=200)
    updated_by: str = Field(default="", max_length=80)
    updated_at: dt.datetime = at_field(default_now=True)


__all__ = ["CalendarDay", "CalendarDayKind", "CalendarWeek"]
