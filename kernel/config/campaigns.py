"""Settings of proactive service: outbound campaigns (campaigns/) and text messages
(integrations/sms.py). Defaults keep a config.yaml without these sections valid: no
campaign dials at night, on holidays, or more calls than the trunk carries."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from kernel.config.center import TimeRange, Weekday
from kernel.config.common import Name, Strict


def _daytime() -> dict[Weekday, list[TimeRange]]:
    day = [TimeRange(start=dt.time(9, 0), end=dt.time(20, 0))]
    return {d: list(day) for d in ("mon", "tue", "wed", "thu", "fri", "sat")}


class RetrySettings(Strict):
    """Minutes before the next attempt, by what the last attempt came to."""

    busy: float = Field(10, gt=0)
    no_answer: float = Field(60, gt=0)
    failed: float = Field(30, gt=0)
    machine: float = Field(120, gt=0)
    hangup: float = Field(60, gt=0)  # answered, hung up before the end of the message


class AmdSettings(Strict):
    """Answering-machine detection with Asterisk's app_amd (AMD() in the dialplan).
    The parameters are AMD()'s own, in milliseconds (see app_amd's documentation)."""

    enabled: bool = True
    initial_silence: int = Field(2500, ge=100)
    greeting: int = Field(1500, ge=100)
    after_greeting_silence: int = Field(800, ge=100)
    total_analysis_time: int = Field(5000, ge=500)
    # What to do with a machine: hang up (the contact is retried per retry.machine) or
    # leave the message after the beep.
    on_machine: str = Field("hangup", pattern=r"^(hangup|leave_message)$")


class CampaignSettings(Strict):
    """Outbound campaigns (campaigns/): when, how often and how fast they dial."""

    enabled: bool = True
    # Calling windows per weekday in the center's time zone; a day not listed is not
    # called at all. Holidays (business calendar, with the admin page's edits) are
    # skipped unless call_on_holidays.
    windows: dict[Weekday, list[TimeRange]] = Field(default_factory=_daytime)
    call_on_holidays: bool = False
    max_attempts: int = Field(3, ge=1, le=20)
    retry_minutes: RetrySettings = RetrySettings()
    # Simultaneous outbound calls all campaigns together may hold: the trunk's channels
    # kept for campaigns (inbound callers keep the rest).
    trunk_channels: int = Field(10, ge=1, le=10_000)
    calls_per_second: float = Field(5.0, gt=0, le=1000)  # pacing of new dials
    ring_seconds: int = Field(30, ge=5, le=120)
    caller_id: str | None = Field(None, pattern=r"^\+?[0-9]{3,20}$")  # default caller ID
    amd: AmdSettings = AmdSettings()
    # Agent campaigns stand back while an inbound queue is under its service-level
    # target: no new campaign call is placed and agents return to inbound first.
    inbound_first: bool = True
    priority: int = Field(-1, le=0)  # router priority of campaign calls: below every inbound
    preview_seconds: int = Field(30, ge=5, le=600)  # a preview not acted on is placed
    # Dialplan names (deploy/asterisk/extensions.conf [hotline-campaign]).
    dial_context: str = "hotline-campaign-dial"
    context: str = "hotline-campaign"
    agi_route: str = "campaign"


class SmsCategoryRule(Strict):
    """A ticket state change that texts the customer (integrations/sms.py)."""

    category: Name
    states: list[str] = ["resolved"]
    # Text with {number} (the ticket's), {category}, {state}, {name}; zh by default.
    text: str = Field("您的工单{number}已处理，如有疑问请致电客服热线。", max_length=300)


class SmsSettings(Strict):
    """Text messages through an SMS gateway: a signed HTTP POST (like the ticket
    webhooks: HMAC-SHA256 of the body with the secret from `secret_env`), retried with
    back-off until the gateway says 2xx. Disabled (no url): messages wait in the outbox."""

    url: str | None = Field(None, pattern=r"^https?://")
    secret_env: str = Field("HOTLINE_SMS_SECRET", pattern=r"^[A-Z_][A-Z0-9_]*$")
    sender: str | None = Field(None, max_length=20)
    timeout_seconds: float = Field(10, gt=0)
    max_attempts: int = Field(8, ge=1)
    backoff_seconds: float = Field(5, gt=0)  # first retry; doubles each time
    backoff_max_seconds: float = Field(1800, gt=0)
    ticket_states: list[SmsCategoryRule] = []

    @model_validator(mode="after")
    def _one_rule_per_category(self) -> SmsSettings:
        names = [r.category for r in self.ticket_states]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"sms.ticket_states: categories listed twice: {', '.join(twice)}")
        return self
