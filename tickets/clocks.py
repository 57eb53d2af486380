"""SLA clocks on a ticket row: plan deadlines, stop clocks, find the next instant.

The arithmetic and the stage rules are pure (tickets/sla_policy.py); this module reads
and writes the ticket's columns (revision 0003) so that the service and the monitor
agree on one meaning of them.
"""

from __future__ import annotations

import datetime as dt

from db.models.tickets import Ticket, TicketState
from kernel.business_calendar import WorkCalendar, make_calendar
from kernel.config import Settings
from kernel.config.care import TicketCategorySettings
from tickets.errors import InvalidTicket
from tickets.sla_policy import (
    ClockPlan,
    ClockState,
    escalation_instants,
    first_pending,
    level_of,
    next_instant,
    plan_clock,
    sla_hours,
    tightened,
)

RESOLVED_STATES = frozenset({TicketState.RESOLVED, TicketState.INFORMED, TicketState.CLOSED})


class SlaClocks:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._categories = {c.name: c for c in settings.tickets.categories}
        self._calendars: dict[str, WorkCalendar] = {}

    def category(self, name: str) -> TicketCategorySettings:
        try:
            return self._categories[name]
        except KeyError:
            known = ", ".join(sorted(self._categories))
            raise InvalidTicket(f"unknown category {name!r} (known: {known})") from None

    def calendar(self, category: str) -> WorkCalendar:
        kind = self.category(category).calendar
        if kind not in self._calendars:
            s = self._settings
            self._calendars[kind] = make_calendar(kind, s.business_hours, s.center.timezone)
        return self._calendars[kind]

    @property
    def warning_fraction(self) -> float:
        return self._settings.tickets.sla_warning_fraction

    def plan_response(self, t: Ticket) -> None:
        hours = sla_hours(self.category(t.category), t.priority).response_hours
        plan = plan_clock(self.calendar(t.category), t.created_at, hours, self.warning_fraction)
        t.response_warn_at, t.response_due_at = plan.warn_at, plan.due_at

    def plan_resolution(self, t: Ticket, start: dt.datetime) -> None:
        hours = sla_hours(self.category(t.category), t.priority).resolution_hours
        plan = plan_clock(self.calendar(t.category), start, hours, self.warning_fraction)
        t.resolution_started_at = start
        t.resolution_warn_at, t.resolution_due_at = plan.warn_at, plan.due_at

    def replan(self, t: Ticket) -> None:
        """Category or priority changed: deadlines of the running clocks move."""
        if t.responded_at is None:
            self.plan_response(t)
        if t.resolved_at is None:
            self.plan_resolution(t, t.resolution_started_at or t.created_at)
        self.refresh(t)

    def priority_raised(self, t: Ticket, now: dt.datetime) -> None:
        """t.priority just rose at `now` (a repeat contact of a higher priority): every
        running clock gets the new priority's deadline counted from now, unless it was
        due sooner (sla_policy.tightened). Stopped clocks stay as they are."""
        hours = sla_hours(self.category(t.category), t.priority)
        calendar, fraction = self.calendar(t.category), self.warning_fraction
        if t.responded_at is None:
            plan = tightened(
                _plan(t.response_warn_at, t.response_due_at),
                plan_clock(calendar, now, hours.response_hours, fraction),
            )
            t.response_warn_at, t.response_due_at = plan.warn_at, plan.due_at
        if t.resolved_at is None:
            plan = tightened(
                _plan(t.resolution_warn_at, t.resolution_due_at),
                plan_clock(calendar, now, hours.resolution_hours, fraction),
            )
            t.resolution_warn_at, t.resolution_due_at = plan.warn_at, plan.due_at
            if t.resolution_started_at is None:
                t.resolution_started_at = t.created_at
        self.refresh(t)

    def response_state(self, t: Ticket) -> ClockState:
        return ClockState(
            warn_at=t.response_warn_at,
            due_at=t.response_due_at,
            stopped=t.responded_at is not None,
            stage=t.sla_response_stage,
        )

    def resolution_state(self, t: Ticket) -> ClockState:
        escalations: tuple[dt.datetime, ...] = ()
        if t.resolution_due_at is not None:
            hours = sla_hours(self.category(t.category), t.priority).resolution_hours
            steps = self._settings.tickets.sla_escalation_steps
            calendar = self.calendar(t.category)
            escalations = tuple(escalation_instants(calendar, t.resolution_due_at, hours, steps))
        return ClockState(
            warn_at=t.resolution_warn_at,
            due_at=t.resolution_due_at,
            stopped=t.resolved_at is not None,
            stage=t.sla_resolution_stage,
            escalations=escalations,
        )

    def refresh(self, t: Ticket) -> None:
        """Recompute escalation_level and sla_next_at from the stored stages."""
        t.escalation_level = max(level_of(t.sla_response_stage), level_of(t.sla_resolution_stage))
        t.sla_next_at = next_instant(
            first_pending(self.response_state(t)), first_pending(self.resolution_state(t))
        )

    def responded(self, t: Ticket, now: dt.datetime) -> None:
        if t.responded_at is not None:
            return
        t.responded_at = now
        due = t.response_due_at
        t.sla_response_met = due is None or (now <= due and t.sla_response_met is not False)

    def resolved(self, t: Ticket, now: dt.datetime) -> None:
        self.responded(t, now)
        t.resolved_at = now
        due = t.resolution_due_at
        t.sla_resolution_met = due is None or (now <= due and t.sla_resolution_met is not False)

    def reopened(self, t: Ticket, now: dt.datetime) -> None:
        t.resolved_at = None
        t.informed_at = None
        t.closed_at = None
        t.sla_resolution_met = None
        t.sla_resolution_stage = 0
        self.plan_resolution(t, now)


def _plan(warn_at: dt.datetime | None, due_at: dt.datetime | None) -> ClockPlan | None:
    return None if warn_at is None or due_at is None else ClockPlan(warn_at, due_at)
