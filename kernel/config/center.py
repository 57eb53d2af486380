"""The center itself: numbers, calendar, skills, queues and customer tiers."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from kernel.config.common import Label, Name, Strict

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class CenterSettings(Strict):
    name: Label = Label(zh="客户服务中心", en="Customer Service Center")
    timezone: str = "Asia/Shanghai"
    hotline_numbers: list[str] = Field(min_length=1)
    languages: list[Literal["zh", "en"]] = ["zh", "en"]
    default_language: Literal["zh", "en"] = "zh"

    @field_validator("hotline_numbers")
    @classmethod
    def _digits_only(cls, numbers: list[str]) -> list[str]:
        for number in numbers:
            if not number.isdigit():
                raise ValueError(f"hotline number {number!r} must be digits only")
        return numbers

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r}") from exc
        return name


class TimeRange(Strict):
    start: dt.time
    end: dt.time

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self


class BusinessHours(Strict):
    """Opening hours per weekday in the center's time zone; holidays close all day."""

    weekly: dict[Weekday, list[TimeRange]]
    holidays: list[dt.date] = []
    # Days that are worked although they fall on a weekend (China's adjusted working days).
    extra_working_days: list[dt.date] = []


class SkillSettings(Strict):
    name: Name
    label: Label


class ServiceLevel(Strict):
    """E.g. 80 % of calls answered within 20 seconds."""

    percent: float = Field(80, gt=0, le=100)
    seconds: int = Field(20, gt=0)


class RoutingStep(Strict):
    """One relaxation step: agents matching `target` are eligible for `timeout_seconds`."""

    target: str
    timeout_seconds: int | None = Field(None, gt=0)


class Overflow(Strict):
    action: Literal["queue", "voicemail_ticket", "callback_offer"]
    target_queue: Name | None = None

    @model_validator(mode="after")
    def _queue_needs_target(self) -> Overflow:
        if self.action == "queue" and self.target_queue is None:
            raise ValueError("overflow action 'queue' needs target_queue")
        return self


class QueueSettings(Strict):
    name: Name
    skill: Name
    label: Label
    service_level: ServiceLevel = ServiceLevel()
    wrap_up_seconds: int = Field(10, ge=0)
    steps: list[RoutingStep] = Field(min_length=1)
    overflow: Overflow = Overflow(action="callback_offer")
    # Longest a caller stays in Asterisk's holding queue before the dialplan fallback
    # takes over, whether or not the backend is alive.
    max_wait_seconds: int = Field(600, gt=0)
    announce_position: bool = True

    @model_validator(mode="after")
    def _last_step_open(self) -> QueueSettings:
        for step in self.steps[:-1]:
            if step.timeout_seconds is None:
                raise ValueError("only the last routing step may have no timeout_seconds")
        return self


class TierSettings(Strict):
    label: Label
    priority: int = Field(ge=0, le=1000)


class CallbackSettings(Strict):
    """Virtual hold: how Hotline calls a customer back when their turn comes."""

    max_attempts: int = Field(3, ge=1, le=10)
    retry_interval_seconds: int = Field(300, gt=0)
    # How long the customer's phone rings per attempt (Originate timeout).
    ring_seconds: int = Field(30, gt=0, le=300)
    # A callback that stays unreachable becomes a ticket of this category.
    ticket_category: Name = "inquiry"
    # Number shown to the customer; None = the hotline's first number.
    caller_id: str | None = None


class AgeingSettings(Strict):
    """Waiting calls rise in priority so that low tiers cannot starve (routing/core/ageing.py):
    `step` points per `every_seconds` in line, up to `max_priority` (None: the highest
    tier's priority), which must stay below `routing.emergency_priority`."""

    enabled: bool = True
    step: int = Field(5, gt=0)
    every_seconds: int = Field(60, gt=0)
    max_priority: int | None = Field(None, ge=0)


class RoutingSettings(Strict):
    emergency_priority: int = Field(1000, ge=0)
    # Calls of these queues get emergency_priority: above every customer tier.
    emergency_queues: list[Name] = []
    offer_timeout_seconds: int = Field(15, gt=0)
    # How long the router waits for the agent desktop to show the screen-pop (offer.delivered)
    # before it rings the agent's phone anyway; 0 = do not wait.
    offer_ack_timeout_ms: int = Field(300, ge=0, le=5000)
    max_no_answer_before_pause: int = Field(2, ge=1)
    # Why an agent is not ready, with the label every page shows (the pages have no list of
    # their own). A plain list of names is accepted too: each name is then its own label.
    not_ready_reasons: dict[Name, Label] = {
        "break": Label(zh="小休", en="Break"),
        "lunch": Label(zh="用餐", en="Lunch"),
        "training": Label(zh="培训", en="Training"),
        "meeting": Label(zh="会议", en="Meeting"),
        "no_answer": Label(zh="未接来电", en="Missed call"),
        "phone_offline": Label(zh="话机离线", en="Phone offline"),
    }
    # Handle time (talk + wrap-up) assumed for the wait estimate until calls are measured.
    default_handle_seconds: int = Field(180, gt=0)
    # Announce the estimated wait to callers entering a holding queue (when >= 1 minute).
    announce_wait: bool = True
    # Overflow action voicemail_ticket: the ticket's category.
    voicemail_ticket_category: Name = "inquiry"
    callback: CallbackSettings = CallbackSettings()
    ageing: AgeingSettings = AgeingSettings()

    @field_validator("not_ready_reasons", mode="before")
    @classmethod
    def _names_are_their_own_labels(cls, value: object) -> object:
        if isinstance(value, list):
            return {name: {"zh": str(name), "en": str(name)} for name in value}
        return value

    def reason_labels(self) -> dict[str, dict[str, str]]:
        """{reason: {zh, en}} for the pages."""
        return {name: label.model_dump() for name, label in self.not_ready_reasons.items()}

    @model_validator(mode="after")
    def _no_answer_is_a_reason(self) -> RoutingSettings:
        if "no_answer" not in self.not_ready_reasons:
            raise ValueError("not_ready_reasons must include 'no_answer' (set by the router)")
        # Set by the router when a browser phone goes away; a list without it still loads.
        self.not_ready_reasons.setdefault("phone_offline", Label(zh="话机离线", en="Phone offline"))
        return self
