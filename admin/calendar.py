"""Editing the business calendar: a date's exception (a holiday, or an adjusted working
day, with its own hours or the normal workday's) and weekly opening hours from a date
on (e.g. next year's). Rows in calendar_days / calendar_weeks, merged over config.yaml's
`business_hours` by kernel/business_calendar.py; the IVR's LiveCalendar sees an edit at
its next call, in every process, without a restart. Every edit is audited
(calendar.day_set, calendar.day_removed, calendar.week_set, calendar.week_removed)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from admin.errors import CalendarEntryNotFound, InvalidCalendar
from admin.schemas import CalendarDayIn, CalendarWeekIn
from db.models import CalendarDay, CalendarDayKind, CalendarWeek
from hotline.services import Services
from kernel.audit import Actor, audit_row, write_audit
from kernel.business_calendar import BusinessCalendar, load_overrides, ranges_of
from kernel.config.center import WEEKDAYS

# Edits are for the calendar in use: last year to a few years ahead.
YEARS_BACK, YEARS_AHEAD = 1, 3


class CalendarAdmin:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def rows(self) -> tuple[list[CalendarDay], list[CalendarWeek]]:
        async with self._services.sessions() as session:
            days = (await session.exec(select(CalendarDay).order_by(col(CalendarDay.day)))).all()
            weeks = (
                await session.exec(select(CalendarWeek).order_by(col(CalendarWeek.valid_from)))
            ).all()
        return list(days), list(weeks)

    async def calendar(self) -> BusinessCalendar:
        """The calendar as the IVR sees it now (config + edits)."""
        s = self._services.settings
        overrides = await load_overrides(self._services.engine)
        return BusinessCalendar(s.business_hours, s.center.timezone, overrides)

    async def set_day(self, actor: Actor, day: dt.date, body: CalendarDayIn) -> CalendarDay:
        self._check_date(day)
        ranges = [] if body.kind == "holiday" else _checked(body.ranges)
        async with self._services.sessions() as session:
            row = await session.get(CalendarDay, day)
            before = _day_detail(row) if row else None
            row = row or CalendarDay(day=day, kind=CalendarDayKind(body.kind))
            row.kind = CalendarDayKind(body.kind)
            row.ranges = ranges
            row.note = body.note
            row.updated_by = actor.name
            row.updated_at = self._services.clock.now()
            session.add(row)
            detail = {"before": before, "after": _day_detail(row)}
            await self._audit(session, actor, "calendar.day_set", day.isoformat(), detail)
            await session.commit()
            await session.refresh(row)
            return row

    async def remove_day(self, actor: Actor, day: dt.date) -> None:
        async with self._services.sessions() as session:
            row = await session.get(CalendarDay, day)
            if row is None:
                raise CalendarEntryNotFound(f"no calendar entry for {day.isoformat()}")
            detail = {"before": _day_detail(row)}
            await session.delete(row)
            await self._audit(session, actor, "calendar.day_removed", day.isoformat(), detail)
            await session.commit()

    async def set_week(self, actor: Actor, start: dt.date, body: CalendarWeekIn) -> CalendarWeek:
        self._check_date(start)
        weekly: dict[str, Any] = {d: _checked(body.weekly.get(d, [])) for d in WEEKDAYS}
        if not any(weekly.values()):
            raise InvalidCalendar("weekly hours with no opening at all: give at least one range")
        async with self._services.sessions() as session:
            row = await session.get(CalendarWeek, start)
            before = dict(row.weekly) if row else None
            row = row or CalendarWeek(valid_from=start)
            row.weekly = weekly
            row.note = body.note
            row.updated_by = actor.name
            row.updated_at = self._services.clock.now()
            session.add(row)
            detail = {"before": before, "after": weekly}
            await self._audit(session, actor, "calendar.week_set", start.isoformat(), detail)
            await session.commit()
            await session.refresh(row)
            return row

    async def remove_week(self, actor: Actor, start: dt.date) -> None:
        async with self._services.sessions() as session:
            row = await session.get(CalendarWeek, start)
            if row is None:
                raise CalendarEntryNotFound(f"no weekly hours from {start.isoformat()}")
            detail = {"before": dict(row.weekly)}
            await session.delete(row)
            await self._audit(session, actor, "calendar.week_removed", start.isoformat(), detail)
            await session.commit()

    def _check_date(self, day: dt.date) -> None:
        this_year = self._services.clock.now().year
        if not this_year - YEARS_BACK <= day.year <= this_year + YEARS_AHEAD:
            raise InvalidCalendar(
                f"{day.isoformat()} is out of range: edit years "
                f"{this_year - YEARS_BACK} to {this_year + YEARS_AHEAD}"
            )

    async def _audit(
        self, session: AsyncSession, actor: Actor, action: str, key: str, detail: Any
    ) -> None:
        row = audit_row(
            actor=actor,
            action=action,
            object_type="calendar",
            object_id=key,
            detail=detail,
            at=self._services.clock.now(),
        )
        await write_audit(session, [row])


def _checked(ranges: list[tuple[str, str]]) -> list[list[str]]:
    """Ranges in order, each start before its end, not overlapping."""
    try:
        parsed = sorted(ranges_of(ranges), key=lambda r: r.start)
    except ValueError as exc:
        raise InvalidCalendar(f"bad opening range: {exc}") from None
    for a, b in itertools.pairwise(parsed):
        if b.start < a.end:
            raise InvalidCalendar(
                f"opening ranges overlap: {a.start}-{a.end} and {b.start}-{b.end}"
            )
    return [[r.start.strftime("%H:%M"), r.end.strftime("%H:%M")] for r in parsed]


def _day_detail(row: CalendarDay) -> dict[str, Any]:
    return {"kind": str(row.kind), "ranges": list(row.ranges), "note": row.note}
