"""What the interpreter says to a transport, and what it gets back.

The interpreter (ivr/interpreter.py) is a generator: it yields instructions and receives
replies. Transports (FastAGI, classic AGI, Twilio) turn instructions into audio and keys;
the driver (ivr/driver.py) answers lookups through the directory (ivr/directory.py).

    Say(items)           play these, nothing comes back (reply None)
    Ask(items, ...)      play these and collect keys: reply is the digits, "" on silence
    Mark(node, input)    the caller entered a node (for the call record and the pop)
    Lookup(query)        reply is the query's answer, or LOOKUP_FAILED when slow or down
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Final, Literal

# -- what is said ----------------------------------------------------------------


@dataclass(frozen=True)
class Prompt:
    """A configured prompt (config.yaml ivr.prompts), said in the call's language."""

    name: str


@dataclass(frozen=True)
class Text:
    """Text known only at run time (a notice, a fault label); spoken by TTS or rendered."""

    text: str


@dataclass(frozen=True)
class Number:
    value: int


@dataclass(frozen=True)
class Digits:
    digits: str  # said one by one (a ticket number, a phone number)


@dataclass(frozen=True)
class Money:
    amount: Decimal  # yuan, two decimals


@dataclass(frozen=True)
class Date:
    day: dt.date


Utterance = Prompt | Text | Number | Digits | Money | Date

# -- instructions ------------------------------------------------------------------


@dataclass(frozen=True)
class Say:
    items: tuple[Utterance, ...]
    language: str = "zh"  # set by the interpreter: the call's language at that moment


@dataclass(frozen=True)
class Ask:
    items: tuple[Utterance, ...]
    max_digits: int
    timeout_seconds: float
    # Digit entry (an account number) ends with #; a menu choice is one key.
    terminator: str = ""
    language: str = "zh"


@dataclass(frozen=True)
class Mark:
    node: str
    input: str  # the key(s) that led here, "timeout", "invalid", "caller_id", ...


class QueryKind(StrEnum):
    CUSTOMER_BY_PHONE = "customer_by_phone"
    CUSTOMER_BY_ACCOUNT = "customer_by_account"
    NOTICES = "notices"
    FAULT_TICKET = "fault_ticket"
    IS_OPEN = "is_open"


@dataclass(frozen=True)
class Query:
    kind: QueryKind
    args: tuple[tuple[str, str], ...] = ()

    def arg(self, name: str, default: str = "") -> str:
        return dict(self.args).get(name, default)


@dataclass(frozen=True)
class Lookup:
    query: Query


Instruction = Say | Ask | Mark | Lookup

# -- answers to lookups ------------------------------------------------------------


@dataclass(frozen=True)
class CustomerInfo:
    id: int
    name: str
    account_number: str
    tier: str  # A | B | C
    language: str  # zh | en
    district: str
    balance: Decimal
    arrears: Decimal
    last_payment_on: dt.date | None = None
    last_payment_amount: Decimal | None = None
    pin_hash: str | None = None  # kernel/pins.py; checked before account self-service


@dataclass(frozen=True)
class NoticeInfo:
    title: str
    body: str


@dataclass(frozen=True)
class TicketInfo:
    id: int
    number: str  # e.g. GD20261123-0001; said digit by digit without the letters


class _Failed:
    def __repr__(self) -> str:
        return "LOOKUP_FAILED"


LOOKUP_FAILED: Final = _Failed()  # the directory was slow, down or broken
Answer = CustomerInfo | None | bool | tuple[NoticeInfo, ...] | TicketInfo | _Failed
Reply = str | Answer

# -- the result --------------------------------------------------------------------


class Outcome(StrEnum):
    QUEUE = "queue"  # to an agent in `skill`
    SELF_SERVICE = "self_service"  # served, hang up
    CALLBACK = "callback"  # hang up, call back later (place kept in `skill`)


@dataclass
class CallFacts:
    """What the IVR learnt about the call, for routing, the call record and the pop."""

    caller_number: str
    language: str
    customer: CustomerInfo | None = None
    path: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    tickets: list[TicketInfo] = field(default_factory=list)
    language_chosen: bool = False


@dataclass(frozen=True)
class IvrResult:
    outcome: Outcome
    skill: str
    priority: int
    language: str
    customer_id: int | None
    tier: str | None
    path: tuple[str, ...]
    facts: tuple[tuple[str, str], ...]
    tickets: tuple[TicketInfo, ...] = ()
    callback_number: str = ""
    action: Literal["queue", "hangup"] = "queue"

    def fact(self, name: str) -> str | None:
        return dict(self.facts).get(name)

    def facts_text(self) -> str:
        """k=v;k=v without commas or semicolons inside (UserEvent argument safe)."""
        clean = {k: v.replace(",", " ").replace(";", " ").replace("\n", " ") for k, v in self.facts}
        return ";".join(f"{k}={v}" for k, v in clean.items())
