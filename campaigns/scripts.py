"""What a campaign says or asks: the models of Campaign.script per kind, and the message
text rendered with one contact's data.

    script = parse_script(CampaignKind.MESSAGE, {"text": "{name}您好，您的欠费为{arrears}。"},
                          categories=[c.name for c in settings.tickets.categories])
    text = render_text(script.text, contact_fields(contact_data, customer_fields), "zh")

Scripts by kind (JSON in campaigns.script; the campaigns API validates with these models,
the FastAGI route campaigns/agi.py reads them):

- message     {"text": "...{name}...{arrears}...", "language": "zh" | "en" | null}
              placeholders: {name} {arrears} {balance} {account} {outage_window} {district}
              and any key of the contact's data (CSV columns); a missing one is empty.
              language null: the customer's language.
- survey      {"intro": "...", "questions": [{"key": "rating", "text": "...", "min": 1,
              "max": 5}], "thanks": "..."}  keys 1-9 of up to 9 questions
- appointment {"intro": "...", "slots": [{"key": "1", "label": "12月8日上午",
              "date": "2026-12-08", "period": "am"}], "category": "<ticket category>",
              "thanks": "..."}
- agent       {"notes": "..."}  what the agent sees on the pop (optional)

Amounts ({arrears}, {balance}, {amount} and keys ending in _amount) are read as money:
"128.50元" in Chinese, "128.50 yuan" in English. Rendering never fails: unknown or
missing placeholders become empty, stray braces stay as written.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from db.models.campaigns import CampaignKind

Language = Literal["zh", "en"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
KEY_NAME = r"^[a-z][a-z0-9_]{0,39}$"
MONEY_FIELDS = frozenset({"arrears", "balance", "amount"})
STANDARD_FIELDS = ("name", "arrears", "balance", "account", "outage_window", "district")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,59})\}")


class ScriptError(ValueError):
    """A campaign script that does not fit its kind; `message` says what, in words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Script(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MessageScript(_Script):
    text: Text
    language: Language | None = None  # None: each customer's own language

    def placeholders(self) -> list[str]:
        return placeholders(self.text)


class Question(_Script):
    key: str = Field(pattern=KEY_NAME)
    text: Text
    min: int = Field(1, ge=0, le=9)
    max: int = Field(5, ge=1, le=9)

    @model_validator(mode="after")
    def _range(self) -> Question:
        if self.min > self.max:
            raise ValueError(f"question {self.key}: min {self.min} is above max {self.max}")
        return self

    @property
    def keys(self) -> str:
        return "".join(str(d) for d in range(self.min, self.max + 1))

    @property
    def is_rating(self) -> bool:
        """A question on the 1-5 scale: the first one's answer is the survey's rating
        (surveys.rating, what the survey reports average)."""
        return self.min == 1 and self.max == 5


class SurveyScript(_Script):
    intro: OptionalText = ""
    questions: list[Question] = Field(min_length=1, max_length=9)
    thanks: OptionalText = ""
    language: Language | None = None

    @field_validator("questions")
    @classmethod
    def _unique(cls, questions: list[Question]) -> list[Question]:
        _no_repeats([q.key for q in questions], "question key")
        return questions


class Slot(_Script):
    key: str = Field(pattern=r"^[1-8]$")  # 9 and 0 are kept for "none of these"
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    date: dt.date
    period: str = Field("", max_length=20)  # am, pm, or a time range "09:00-12:00"


class AppointmentScript(_Script):
    intro: OptionalText = ""
    slots: list[Slot] = Field(min_length=1, max_length=8)
    category: str = Field(pattern=KEY_NAME)
    thanks: OptionalText = ""
    language: Language | None = None

    @field_validator("slots")
    @classmethod
    def _unique(cls, slots: list[Slot]) -> list[Slot]:
        _no_repeats([s.key for s in slots], "slot key")
        return slots

    @field_validator("category")
    @classmethod
    def _known(cls, category: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("categories")
        if known is not None and category not in known:
            raise ValueError(f"unknown ticket category {category!r} (known: {', '.join(known)})")
        return category

    def slot(self, key: str) -> Slot | None:
        return next((s for s in self.slots if s.key == key), None)


class AgentScript(_Script):
    notes: OptionalText = ""


Script = MessageScript | SurveyScript | AppointmentScript | AgentScript
MODELS: dict[CampaignKind, type[_Script]] = {
    CampaignKind.MESSAGE: MessageScript,
    CampaignKind.SURVEY: SurveyScript,
    CampaignKind.APPOINTMENT: AppointmentScript,
    CampaignKind.AGENT: AgentScript,
}


def parse_script(
    kind: CampaignKind | str,
    data: Mapping[str, Any] | None,
    *,
    categories: Iterable[str] | None = None,
) -> Script:
    """The script of a campaign of `kind`, or ScriptError with every problem named.
    `categories`: the ticket categories an appointment may create (None: not checked)."""
    try:
        model = MODELS[CampaignKind(kind)]
    except ValueError:
        raise ScriptError(f"unknown campaign kind {kind!r}") from None
    context = {"categories": list(categories)} if categories is not None else {}
    try:
        script = model.model_validate(dict(data or {}), context=context)
    except ValidationError as exc:
        raise ScriptError(f"{CampaignKind(kind).value} script: {describe(exc)}") from None
    assert isinstance(script, MessageScript | SurveyScript | AppointmentScript | AgentScript)
    return script


def describe(exc: ValidationError) -> str:
    """A pydantic error as one line: `questions.0.max: ...; text: ...`."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "script"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def _no_repeats(keys: list[str], what: str) -> None:
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ValueError(f"{what} used twice: {', '.join(twice)}")


# -- rendering -------------------------------------------------------------------------


def placeholders(template: str) -> list[str]:
    return list(dict.fromkeys(_PLACEHOLDER.findall(template)))


def money(value: object, language: str = "zh") -> str:
    """128.5 -> "128.50元" (en: "128.50 yuan"); text that is not a number stays as is."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value).replace(",", "").strip().rstrip("元"))
    except InvalidOperation:
        return str(value)
    if not amount.is_finite():
        return str(value)
    try:
        text = f"{amount.quantize(Decimal('0.01')):f}"
    except InvalidOperation:  # NaN, infinity, more digits than the context holds
        return str(value)
    return f"{text} yuan" if language == "en" else f"{text}元"


def _is_money(key: str) -> bool:
    return key in MONEY_FIELDS or key.endswith("_amount")


def render_text(template: str, fields: Mapping[str, Any], language: str = "zh") -> str:
    """The template with each {key} replaced by fields[key] (money fields as money);
    a key that is missing or None is empty. Never raises."""

    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        value = fields.get(key)
        if value is None:
            return ""
        if _is_money(key):
            return money(value, language)
        if isinstance(value, Decimal | float):
            return f"{value:f}" if isinstance(value, Decimal) else f"{value:g}"
        return str(value)

    return _PLACEHOLDER.sub(one, template)


def contact_fields(
    data: Mapping[str, Any] | None,
    customer: Mapping[str, Any] | None = None,
    *,
    name: str = "",
) -> dict[str, Any]:
    """What a message may say about one contact: the customer's file (name, arrears,
    balance, account, district), the contact's own name, then the contact's data (CSV
    columns, the campaign's outage window), which wins."""
    fields: dict[str, Any] = dict.fromkeys(STANDARD_FIELDS, "")
    for key, value in (customer or {}).items():
        if value is not None:
            fields[key] = value
    if name:
        fields["name"] = name
    for key, value in (data or {}).items():
        if value is not None and not isinstance(value, dict | list):
            fields[str(key)] = value
    return fields
