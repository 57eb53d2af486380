"""Request and response bodies of the campaigns API (campaigns/api.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from db.models import Tier
from db.models.campaigns import CampaignKind, DialMode

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Skill = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
CallerId = Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{3,20}$")]
District = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
SmsText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


def _no_nul(value: Any) -> None:
    """PostgreSQL text holds no NUL character: refuse it here (422), not at the insert."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain a NUL character")
    elif isinstance(value, dict):
        for k, v in value.items():
            _no_nul(k)
            _no_nul(v)
    elif isinstance(value, list | tuple):
        for v in value:
            _no_nul(v)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _text_without_nul(cls, data: Any) -> Any:
        _no_nul(data)
        return data


class RetryMinutesIn(_In):
    busy: float | None = Field(None, gt=0, le=10_080)
    no_answer: float | None = Field(None, gt=0, le=10_080)
    failed: float | None = Field(None, gt=0, le=10_080)
    machine: float | None = Field(None, gt=0, le=10_080)
    hangup: float | None = Field(None, gt=0, le=10_080)


class RulesIn(_In):
    """The campaign's own dialing rules; what is left out is config's (campaigns section)."""

    max_attempts: int | None = Field(None, ge=1, le=20)
    retry_minutes: RetryMinutesIn | None = None
    max_channels: int | None = Field(None, ge=1, le=10_000)

    def as_rules(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class CampaignIn(_In):
    name: Name
    kind: CampaignKind
    dial_mode: DialMode | None = None  # agent campaigns (default preview)
    skill: Skill | None = None  # agent campaigns, and a message's key 2
    caller_id: CallerId | None = None
    script: dict[str, Any] = Field(default_factory=dict)
    rules: RulesIn = Field(default_factory=RulesIn)
    sms_fallback: bool = False
    sms_text: SmsText | None = None


class CampaignChange(_In):
    """An edit while draft or paused: only the fields sent change."""

    name: Name | None = None
    dial_mode: DialMode | None = None
    skill: Skill | None = None
    caller_id: CallerId | None = None
    script: dict[str, Any] | None = None
    rules: RulesIn | None = None
    sms_fallback: bool | None = None
    sms_text: SmsText | None = None


class CustomerFilter(_In):
    """Customers to call: every condition given must hold (none given: every customer)."""

    district: District | None = None
    tier: Tier | None = None
    arrears_above: Decimal | None = Field(
        None, ge=0, le=Decimal("999999999999.99"), max_digits=14, decimal_places=2
    )
    ticket_category: Category | None = None  # the customer has an open ticket of it


class DoNotCallIn(_In):
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=30)]
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
