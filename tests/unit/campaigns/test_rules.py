"""Dialing rules (campaigns/rules.py), pure: calling windows per weekday, holidays (config's
and the administration's closed days), retries per outcome, the attempts limit, and a retry
that falls outside a window moving to the next window's start.

Config defaults (kernel/config/campaigns.py): windows Mon-Sat 09:00-20:00 Shanghai time,
no Sunday; retries busy 10 min, failed 30, no answer 60, hang-up 60, machine 120; 3 attempts.
config.yaml's holidays include 2026-10-01, 10-02 and 10-05.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.rules import RETRIED, DialingRules, Next
from db.models.campaigns import AttemptOutcome as O
from db.models.campaigns import ContactState
from kernel.business_calendar import CalendarOverrides
from kernel.config import load_settings
from kernel.config.campaigns import CampaignSettings
from kernel.config.center import TimeRange
from kernel.config.settings import Settings
from tests.unit.kernel.test_config import ROOT

SH = dt.timezone(dt.timedelta(hours=8))
TUESDAY = dt.date(2026, 12, 8)
BASE = load_settings(ROOT / "config.yaml", env={})


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SH)


def settings(**campaigns: Any) -> Settings:
    return BASE.model_copy(update={"campaigns": CampaignSettings(**campaigns)})


def rules(
    overrides: CalendarOverrides | None = None,
    campaign_rules: dict[str, Any] | None = None,
    **campaigns: Any,
) -> DialingRules:
    return DialingRules.of(settings(**campaigns), overrides, campaign_rules)


def day(offset: int) -> dt.date:
    return TUESDAY + dt.timedelta(days=offset)


# -- windows ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "open_"),
    [
        (at(TUESDAY, 9, 0), True),
        (at(TUESDAY, 19, 59), True),
        (at(TUESDAY, 20, 0), False),  # the window's end is outside it
        (at(TUESDAY, 8, 59), False),
        (at(TUESDAY, 2, 0), False),  # never at night
        (at(day(4), 12, 0), True),  # Saturday
        (at(day(5), 12, 0), False),  # Sunday: not listed, not called
    ],
)
def test_given_the_default_windows_then_calls_only_mon_to_sat_9_to_20(
    when: dt.datetime, open_: bool
) -> None:
    assert rules().may_call(when) is open_


def test_given_an_instant_outside_the_window_then_the_next_call_time_is_the_next_window_start() -> (
    None
):
    r = rules()
    assert r.next_call_time(at(TUESDAY, 10, 15)) == at(TUESDAY, 10, 15)  # inside: itself
    assert r.next_call_time(at(TUESDAY, 20, 0)) == at(day(1), 9, 0)
    assert r.next_call_time(at(TUESDAY, 3, 0)) == at(TUESDAY, 9, 0)
    assert r.next_call_time(at(day(4), 20, 30)) == at(day(6), 9, 0)  # Saturday night -> Monday


def test_given_windows_per_weekday_then_each_day_has_its_own() -> None:
    r = rules(
        windows={
            "mon": [{"start": "09:00", "end": "12:00"}, {"start": "14:00", "end": "18:00"}],
            "sun": [{"start": "10:00", "end": "16:00"}],
        }
    )
    monday = day(6)
    assert r.may_call(at(monday, 11, 0))
    assert not r.may_call(at(monday, 13, 0))  # the lunch gap
    assert r.next_call_time(at(monday, 12, 30)) == at(monday, 14, 0)
    assert r.may_call(at(day(5), 15, 0))  # Sunday now listed
    assert not r.may_call(at(TUESDAY, 10, 0))  # Tuesday no longer listed
    assert r.next_call_time(at(TUESDAY, 10, 0)) == at(day(5), 10, 0)


def test_given_no_window_at_all_then_no_call_time_and_a_retry_fails_the_contact() -> None:
    r = rules(windows={})
    assert not r.may_call(at(TUESDAY, 10, 0))
    assert r.next_call_time(at(TUESDAY, 10, 0)) is None
    assert r.after_attempt(O.BUSY, 1, at(TUESDAY, 10, 0)) == Next(ContactState.FAILED, None)


# -- holidays ---------------------------------------------------------------------------------


def test_given_a_configured_holiday_then_no_call_that_day() -> None:
    national_day = dt.date(2026, 10, 1)  # a Thursday, in config.yaml's holidays
    assert national_day in BASE.business_hours.holidays
    r = rules()
    assert not r.may_call(at(national_day, 10, 0))
    # 10-01 and 10-02 closed, 10-03 is a Saturday inside the windows.
    assert r.next_call_time(at(dt.date(2026, 9, 30), 20, 0)) == at(dt.date(2026, 10, 3), 9, 0)


def test_given_call_on_holidays_then_a_holiday_is_an_ordinary_day() -> None:
    national_day = dt.date(2026, 10, 1)
    assert rules(call_on_holidays=True).may_call(at(national_day, 10, 0))
    closed = CalendarOverrides(days={TUESDAY: None})
    assert rules(closed, call_on_holidays=True).may_call(at(TUESDAY, 10, 0))


def test_given_a_day_the_administration_closed_then_campaigns_do_not_call_it() -> None:
    wednesday = day(1)
    r = rules(CalendarOverrides(days={wednesday: None}))
    assert not r.may_call(at(wednesday, 10, 0))
    assert r.next_call_time(at(TUESDAY, 20, 0)) == at(day(2), 9, 0)  # Thursday
    # A busy retry due Wednesday morning waits for Thursday's window.
    assert r.after_attempt(O.BUSY, 1, at(TUESDAY, 19, 55)) == Next(
        ContactState.PENDING, at(day(2), 9, 0)
    )


def test_given_the_administration_shortened_a_day_then_the_calling_window_is_unchanged() -> None:
    # The center's own opening hours that day, not the campaigns' windows.
    thursday = day(2)
    short = CalendarOverrides(
        days={thursday: [TimeRange(start=dt.time(10, 0), end=dt.time(12, 0))]}
    )
    r = rules(short)
    assert r.may_call(at(thursday, 9, 30))
    assert r.may_call(at(thursday, 15, 0))


def test_given_a_holiday_in_config_then_an_admin_override_cannot_reopen_it_for_campaigns() -> None:
    # Only the administration's closed days reach the campaigns' calendar: a configured
    # holiday stays a holiday even if the page gave that date hours.
    national_day = dt.date(2026, 10, 1)
    reopened = CalendarOverrides(days={national_day: []})
    assert not rules(reopened).may_call(at(national_day, 10, 0))


# -- retries and attempts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "minutes"),
    [(O.BUSY, 10), (O.FAILED, 30), (O.NO_ANSWER, 60), (O.HANGUP, 60), (O.MACHINE, 120)],
)
def test_given_an_outcome_then_the_retry_comes_after_its_own_interval(
    outcome: O, minutes: int
) -> None:
    ended = at(TUESDAY, 10, 0)
    assert rules().after_attempt(outcome, 1, ended) == Next(
        ContactState.PENDING, ended + dt.timedelta(minutes=minutes)
    )


def test_given_an_answered_call_then_the_contact_is_done_whatever_its_attempts() -> None:
    for attempts in (1, 3, 7):
        assert rules().after_attempt(O.ANSWERED, attempts, at(TUESDAY, 10, 0)) == Next(
            ContactState.DONE, None
        )


def test_given_the_last_attempt_then_the_contact_failed_with_no_next_time() -> None:
    r = rules()
    assert r.max_attempts == 3
    assert r.after_attempt(O.NO_ANSWER, 2, at(TUESDAY, 10, 0)).state is ContactState.PENDING
    for outcome in RETRIED:
        assert r.after_attempt(outcome, 3, at(TUESDAY, 10, 0)) == Next(ContactState.FAILED, None)


def test_given_the_config_max_attempts_then_it_is_the_default() -> None:
    r = rules(max_attempts=1)
    assert r.after_attempt(O.BUSY, 1, at(TUESDAY, 10, 0)) == Next(ContactState.FAILED, None)


def test_given_the_campaigns_own_rules_then_they_win_over_config() -> None:
    own = {"max_attempts": 5, "retry_minutes": {"busy": 2, "machine": 15, "unknown": 1}}
    r = rules(campaign_rules=own)
    ended = at(TUESDAY, 10, 0)
    assert r.max_attempts == 5
    assert r.after_attempt(O.BUSY, 4, ended) == Next(
        ContactState.PENDING, ended + dt.timedelta(minutes=2)
    )
    assert r.after_attempt(O.MACHINE, 1, ended).next_attempt_at == ended + dt.timedelta(minutes=15)
    # Outcomes it does not name keep config's interval; an unknown key is ignored.
    assert r.after_attempt(O.NO_ANSWER, 1, ended).next_attempt_at == ended + dt.timedelta(
        minutes=60
    )
    assert r.after_attempt(O.BUSY, 5, ended).state is ContactState.FAILED


def test_given_a_retry_past_the_window_then_it_moves_to_the_next_window_start() -> None:
    r = rules()
    # Busy at 19:55: +10 min is 20:05, after the window -> Wednesday 09:00.
    assert r.after_attempt(O.BUSY, 1, at(TUESDAY, 19, 55)) == Next(
        ContactState.PENDING, at(day(1), 9, 0)
    )
    # Busy at 19:45: +10 min is 19:55, still inside.
    assert r.after_attempt(O.BUSY, 1, at(TUESDAY, 19, 45)).next_attempt_at == at(TUESDAY, 19, 55)
    # A machine on Saturday at 19:00: +2 h is 21:00, Sunday is not called -> Monday 09:00.
    assert r.after_attempt(O.MACHINE, 1, at(day(4), 19, 0)).next_attempt_at == at(day(6), 9, 0)


@given(
    minutes=st.integers(min_value=0, max_value=60 * 24 * 30),
    outcome=st.sampled_from(RETRIED),
    attempts=st.integers(min_value=1, max_value=2),
)
def test_given_any_end_then_a_retry_is_inside_a_window_and_not_before_its_interval(
    minutes: int, outcome: O, attempts: int
) -> None:
    r = rules()
    ended = at(TUESDAY, 0, 0) + dt.timedelta(minutes=minutes)
    step = r.after_attempt(outcome, attempts, ended)
    assert step.state is ContactState.PENDING
    assert step.next_attempt_at is not None
    assert r.may_call(step.next_attempt_at)
    earliest = ended + dt.timedelta(minutes=r.retry_minutes[outcome])
    assert step.next_attempt_at >= earliest
    # ... and it is the first callable instant from there: nothing earlier was open.
    assert step.next_attempt_at == r.next_call_time(earliest)
