"""Tickets (work orders), departments, SLA hours and recording policy."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from kernel.config.common import Label, Name, Strict

TicketPriority = Literal["low", "normal", "high", "urgent"]


class DepartmentSettings(Strict):
    name: Name
    label: Label


class SlaHours(Strict):
    """Deadlines in business hours (24/7 categories such as repairs use calendar hours)."""

    response_hours: float = Field(gt=0)
    resolution_hours: float = Field(gt=0)

    @model_validator(mode="after")
    def _response_first(self) -> SlaHours:
        if self.resolution_hours < self.response_hours:
            raise ValueError("resolution_hours must not be shorter than response_hours")
        return self


class TicketCategorySettings(Strict):
    name: Name
    label: Label
    department: Name
    sla: dict[TicketPriority, SlaHours]
    calendar: Literal["business_hours", "24x7"] = "business_hours"
    follow_up: bool = False


class FollowUpSettings(Strict):
    """回访: calling the customer back once a follow_up category ticket is resolved."""

    # auto_call: Hotline dials and runs the keypad survey; agent: queued for an agent.
    method: Literal["auto_call", "agent"] = "auto_call"
    delay_minutes: float = Field(30, ge=0)
    business_hours_only: bool = True  # never ring customers at night or on holidays
    max_attempts: int = Field(3, ge=1)
    retry_minutes: float = Field(60, gt=0)
    ring_seconds: int = Field(30, gt=0)
    caller_id: str | None = None  # e.g. the hotline number; None: the PBX default
    # Seconds to wait for each keypad answer in the survey.
    answer_timeout_seconds: float = Field(8, gt=0)


class WebhookSettings(Strict):
    """An external system (billing, repair dispatch, office automation) told about ticket
    events by signed HTTP POSTs, and optionally allowed to update tickets."""

    name: Name
    url: str = Field(pattern=r"^https?://")
    # Event types ("ticket.created", "ticket.resolved", ...) or patterns ("ticket.*").
    events: list[str] = ["ticket.*"]
    categories: list[Name] = []  # only tickets of these categories; empty: all
    # Name of the environment variable holding the shared HMAC secret (never the secret).
    secret_env: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$")
    inbound: bool = False  # may POST updates to /integrations/{name}/tickets/...
    timeout_seconds: float = Field(10, gt=0)
    max_attempts: int = Field(10, ge=1)
    backoff_seconds: float = Field(2, gt=0)  # first retry; doubles each time
    backoff_max_seconds: float = Field(3600, gt=0)


class KnowledgeCategory(Strict):
    """A knowledge-base category and what makes it relevant on a screen pop."""

    name: Name
    label: Label
    skills: list[Name] = []
    ticket_categories: list[Name] = []
    ivr_nodes: list[Name] = []


class TicketSettings(Strict):
    departments: list[DepartmentSettings] = Field(min_length=1)
    categories: list[TicketCategorySettings] = Field(min_length=1)
    sla_warning_fraction: float = Field(0.8, gt=0, lt=1)
    # Escalation levels after a resolution breach, as fractions of the resolution time
    # past the deadline (level 2 at the first, level 3 at the second, ...).
    sla_escalation_steps: list[float] = [0.5, 1.0]
    follow_up: FollowUpSettings = FollowUpSettings()
    webhooks: list[WebhookSettings] = []
    knowledge_categories: list[KnowledgeCategory] = []

    @model_validator(mode="after")
    def _steps_increase(self) -> TicketSettings:
        steps = self.sla_escalation_steps
        if any(s <= 0 for s in steps) or steps != sorted(set(steps)):
            raise ValueError("sla_escalation_steps must be positive and increasing")
        known = {c.name for c in self.categories}
        problems = [
            f"webhooks[{i}].categories: unknown category {name!r}"
            for i, hook in enumerate(self.webhooks)
            for name in hook.categories
            if name not in known
        ]
        problems += [
            f"knowledge_categories[{i}].ticket_categories: unknown category {name!r}"
            for i, kc in enumerate(self.knowledge_categories)
            for name in kc.ticket_categories
            if name not in known
        ]
        names = [hook.name for hook in self.webhooks]
        problems += [
            f"webhooks: {n!r} is defined twice" for n in sorted(set(names)) if names.count(n) > 1
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self


class RecordingSettings(Strict):
    mode: Literal["all", "queues", "agents", "on_demand"] = "all"
    queues: list[Name] = []
    agents: list[str] = []
    root: str = "var/recordings"
    # Where Asterisk writes the same directory, if its file system differs (chroot, NFS).
    asterisk_root: str | None = None
    format: Literal["wav", "gsm"] = "wav"
    retention_days: int = Field(180, ge=1)
    # Agents may play back and download recordings of their own calls (supervisors, QA
    # and admins always may).
    agents_play_own: bool = False
    # The retention purge runs inside the backend once a day at this local time (the
    # center's time zone), on the leading process only (hotline/cluster.py).
    purge_at: dt.time = dt.time(3, 30)


class ReportSettings(Strict):
    """Reports and the live view share these (reports/metrics.py states the definitions)."""

    # A caller who hangs up in the queue sooner than this is a short abandon: reported
    # apart, left out of abandoned and of the service level.
    short_abandon_seconds: int = Field(5, ge=0)
    # Live view alerts (supervisor/live_alerts.py): a caller waiting longer than this, and
    # a queue under its service-level target once it has answered this many calls today.
    wait_alert_seconds: int = Field(60, gt=0)
    service_level_alert_min_calls: int = Field(10, ge=1)
