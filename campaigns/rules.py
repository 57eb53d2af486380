"""Dialing rules, pure: when a campaign may call, and what a contact's attempt leads to.

The calling windows are a business calendar of their own (campaigns.windows per weekday in
the center's time zone) that closes on the center's holidays (config and the
administration page's edits) unless campaigns.call_on_holidays: no call is ever placed
outside a window, and a retry that falls outside one moves to the next window's start.

    rules = DialingRules.of(settings, overrides, campaign.rules)
    rules.may_call(now)                       -> bool
    rules.next_call_time(at)                  -> the first instant >= at inside a window
    rules.after_attempt(outcome, attempts, now) -> Next(state, next_attempt_at)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from db.models.campaigns import AttemptOutcome, ContactState
from kernel.business_calendar import BusinessCalendar, CalendarOverrides
from kernel.config.campaigns import CampaignSettings
from kernel.config.center import BusinessHours
from kernel.config.settings import Settings

# Outcomes after which the contact is done: a person took the call to its end.
REACHED = frozenset({AttemptOutcome.ANSWERED})


@dataclass(frozen=True)
class Next:
    state: ContactState
    next_attempt_at: dt.datetime | None


@dataclass(frozen=True)
class DialingRules:
    calendar: BusinessCalendar
    max_attempts: int
    retry_minutes: Mapping[AttemptOutcome, float] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        settings: Settings,
        overrides: CalendarOverrides | None = None,
        campaign_rules: Mapping[str, Any] | None = None,
    ) -> DialingRules:
        """The rules of one campaign: config's, with the campaign's own max_attempts and
        retry_minutes where it has them; `overrides` are the administration page's
        calendar edits (only its holidays matter here)."""
        cfg: CampaignSettings = settings.campaigns
        own = dict(campaign_rules or {})
        holidays = [] if cfg.call_on_holidays else list(settings.business_hours.holidays)
        hours = BusinessHours(weekly=dict(cfg.windows), holidays=holidays)
        closed = CalendarOverrides()
        if overrides is not None and not cfg.call_on_holidays:
            # A day the administration closed is a holiday for campaigns too; its other
            # edits (shorter opening hours) are the center's, not the calling windows.
            closed = CalendarOverrides(
                days={d: None for d, ranges in overrides.days.items() if ranges is None}
            )
        calendar = BusinessCalendar(hours, settings.center.timezone, closed)
        retry = {o: float(getattr(cfg.retry_minutes, o.value)) for o in RETRIED}
        for key, minutes in dict(own.get("retry_minutes") or {}).items():
            if key in {o.value for o in RETRIED}:
                retry[AttemptOutcome(key)] = float(minutes)
        max_attempts = int(own.get("max_attempts") or cfg.max_attempts)
        return cls(calendar=calendar, max_attempts=max_attempts, retry_minutes=retry)

    def may_call(self, at: dt.datetime) -> bool:
        return self.calendar.is_open(at)

    def next_call_time(self, at: dt.datetime) -> dt.datetime | None:
        """`at` inside a window, else the next window's start; None when no window opens
        within the calendar's horizon (a configuration with no windows at all)."""
        try:
            return self.calendar.next_open(at)
        except ValueError:
            return None

    def after_attempt(self, outcome: AttemptOutcome, attempts: int, at: dt.datetime) -> Next:
        """Where a contact stands after its `attempts`-th attempt ended with `outcome`."""
        if outcome in REACHED:
            return Next(ContactState.DONE, None)
        if attempts >= self.max_attempts:
            return Next(ContactState.FAILED, None)
        minutes = self.retry_minutes.get(outcome, 60.0)
        retry = self.next_call_time(at + dt.timedelta(minutes=minutes))
        if retry is None:
            return Next(ContactState.FAILED, None)
        return Next(ContactState.PENDING, retry)


RETRIED = (
    AttemptOutcome.BUSY,
    AttemptOutcome.NO_ANSWER,
    AttemptOutcome.FAILED,
    AttemptOutcome.MACHINE,
    AttemptOutcome.HANGUP,
)
