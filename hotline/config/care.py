"""Tickets (work orders), departments, SLA hours and recording policy."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from hotline.config.common import Label, Name, Strict

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


class TicketSettings(Strict):
    departments: list[DepartmentSettings] = Field(min_length=1)
    categories: list[TicketCategorySettings] = Field(min_length=1)
    sla_warning_fraction: float = Field(0.8, gt=0, lt=1)


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


class ReportSettings(Strict):
    """Reports and the live view share these (reports/metrics.py states the definitions)."""

    # A caller who hangs up in the queue sooner than this is a short abandon: reported
    # apart, left out of abandoned and of the service level.
    short_abandon_seconds: int = Field(5, ge=0)
