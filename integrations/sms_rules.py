"""Decisions of the SMS channel, pure (no I/O): what a gateway's answer means, when to
try again, and which ticket state change texts the customer with which words.

The gateway (integrations/sms.py) and the ticket listener (integrations/sms_tickets.py)
act on these; the unit tests hold them with tables.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kernel.config.campaigns import SmsCategoryRule, SmsSettings

# 408 Request Timeout and 429 Too Many Requests say "later", not "never".
RETRYABLE_4XX = frozenset({408, 429})
# sms_messages.reason of a ticket-state text: the state is part of it, so "once per
# ticket and state" is one lookup (reason is 40 characters; states are short names).
TICKET_REASON_PREFIX = "ticket_state:"


class Verdict(StrEnum):
    SENT = "sent"  # the gateway took it
    RETRY = "retry"  # the gateway or the network failed: try again later
    REJECTED = "rejected"  # the gateway refused this message: trying again changes nothing


def verdict(status: int | None) -> Verdict:
    """What an HTTP answer means for the message; None: no answer at all (timeout,
    connection refused or reset)."""
    if status is None:
        return Verdict.RETRY
    if 200 <= status < 300:
        return Verdict.SENT
    if 400 <= status < 500 and status not in RETRYABLE_4XX:
        return Verdict.REJECTED
    return Verdict.RETRY  # 5xx, 408, 429, and anything unexpected (1xx, 3xx: no redirects)


def backoff(settings: SmsSettings, attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: backoff_seconds doubling
    each time, at most backoff_max_seconds."""
    doubled = settings.backoff_seconds * 2 ** max(0, attempts - 1)
    return float(min(doubled, settings.backoff_max_seconds))


@dataclass(frozen=True, slots=True)
class Step:
    """Where a message goes after one attempt: its state and, when pending, the seconds
    until the next attempt."""

    state: str  # SmsState value
    retry_in: float | None = None


def after_attempt(settings: SmsSettings, attempt_no: int, result: Verdict) -> Step:
    if result is Verdict.SENT:
        return Step("sent")
    if result is Verdict.REJECTED or attempt_no >= settings.max_attempts:
        return Step("failed")
    return Step("pending", backoff(settings, attempt_no))


def schedule(settings: SmsSettings) -> list[float]:
    """The waits between attempts of a message the gateway never takes (seconds), as
    after_attempt plans them: max_attempts - 1 values."""
    return [backoff(settings, n) for n in range(1, settings.max_attempts)]


ALERT_TYPE = "sms.failed"
ALERT_ROLES = ["supervisor", "admin"]


def failed_alert(
    *,
    sms_id: int | None,
    number: str,
    reason: str,
    attempts: int,
    error: str | None,
    at: float,
    campaign_id: int | None = None,
    ticket_id: int | None = None,
    customer_id: int | None = None,
) -> dict[str, Any]:
    """The topics.ALERT message for a text the gateway gave up on (supervisor/live_alerts.py
    shows it on the wallboard, the number masked)."""
    return {
        "type": ALERT_TYPE,
        "sms_id": sms_id,
        "number": number,
        "reason": reason,
        "campaign_id": campaign_id,
        "ticket_id": ticket_id,
        "customer_id": customer_id,
        "attempts": attempts,
        "error": error,
        "message": f"短信发送失败（{attempts} 次）：{error or ''}"[:300],
        "at": at,
        "notify": {"roles": list(ALERT_ROLES)},
    }


# --- ticket state changes -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketChange:
    """A ticket that reached a state, as the ticket.* bus event tells it."""

    ticket_id: int
    number: str
    category: str
    state: str
    customer_id: int | None
    contact_number: str | None
    contact_name: str | None

    @property
    def reason(self) -> str:
        return f"{TICKET_REASON_PREFIX}{self.state}"[:40]


def state_change(event: Mapping[str, Any]) -> TicketChange | None:
    """The state a ticket.* event moved its ticket to, or None (not a state change, or
    not a ticket event). tickets/trail.py writes {"type": "ticket.<action>", "ticket":
    snapshot, "change": {"field": "state", "to": ...}}."""
    if not str(event.get("type", "")).startswith("ticket."):
        return None
    change = event.get("change")
    ticket = event.get("ticket")
    if not isinstance(change, Mapping) or not isinstance(ticket, Mapping):
        return None
    if change.get("field") != "state" or not change.get("to"):
        return None
    ticket_id = ticket.get("id")
    if not isinstance(ticket_id, int):
        return None
    customer = ticket.get("customer_id")
    return TicketChange(
        ticket_id=ticket_id,
        number=str(ticket.get("number") or ""),
        category=str(ticket.get("category") or ""),
        state=str(change["to"]),
        customer_id=customer if isinstance(customer, int) else None,
        contact_number=ticket.get("contact_number") or None,
        contact_name=ticket.get("contact_name") or None,
    )


def rule_for(rules: Sequence[SmsCategoryRule], change: TicketChange) -> SmsCategoryRule | None:
    """The configured rule that texts this change (one rule per category), or None."""
    for rule in rules:
        if rule.category == change.category and change.state in rule.states:
            return rule
    return None


class _Keep(dict[str, str]):
    """Fields a text does not know are left as written ("{amount}"), not an error: a
    typo in config must not stop the customer's message."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(text: str, *, number: str, category: str, state: str, name: str) -> str:
    """A rule's text with {number} (the ticket's), {category}, {state} and {name}."""
    fields = _Keep(number=number, category=category, state=state, name=name)
    try:
        return string.Formatter().vformat(text, (), fields)
    except (ValueError, IndexError, AttributeError, KeyError):
        return text  # unbalanced braces, {0}, {name.x}: the text as configured
