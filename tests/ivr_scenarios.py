"""IVR scenarios shared by every front end's tests (pure, FastAGI, classic AGI, Twilio).

Each scenario: who calls, the keys they press at each question ("" = silence), and what
must come out. The customers below exist in the fake directory (unit tests) and are
created in the database by `seed_ivr_customers` (integration tests).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from ivr.script import CustomerInfo

# Known by caller ID: 张伟, tier A, owes money.
ZHANG = CustomerInfo(
    id=1,
    name="张伟",
    account_number="310000123456",
    tier="A",
    language="zh",
    district="滨江区",
    balance=Decimal("-312.40"),
    arrears=Decimal("312.40"),
    last_payment_on=dt.date(2026, 10, 8),
    last_payment_amount=Decimal("200.00"),
)
ZHANG_PHONE = "13912345678"
# Only by account number (calls from an unknown phone): Ms Li, tier C, English speaker.
LI = CustomerInfo(
    id=2,
    name="李娜",
    account_number="310000654321",
    tier="C",
    language="en",
    district="西湖区",
    balance=Decimal("58.00"),
    arrears=Decimal("0.00"),
)
UNKNOWN_PHONE = "13800000000"


@dataclass(frozen=True)
class Scenario:
    name: str
    caller: str
    keys: tuple[str, ...]  # one entry per question; "" = silence; absent = hang up
    outcome: str | None  # queue | self_service | callback | None (hung up)
    skill: str | None = None
    priority: int | None = None
    path: tuple[str, ...] = ()  # the nodes entered, in order
    customer_id: int | None = None
    facts: dict[str, str] = field(default_factory=dict)
    ticket_priority: str | None = None  # a fault ticket was created with this priority
    callback_number: str = ""


START = ("start", "hours", "greet", "main")
SCENARIOS = [
    Scenario(
        "identified by caller ID hears the balance, then hangs up content",
        ZHANG_PHONE,
        ("1", ""),
        "self_service",
        path=(*START, "billing", "billing_after", "goodbye"),
        customer_id=1,
        facts={"identified": "caller_id", "heard": "balance", "arrears": "312.40"},
    ),
    Scenario(
        "identified by account number, hears the balance, asks for an agent",
        UNKNOWN_PHONE,
        ("1", "310000654321", "1"),
        "queue",
        skill="billing",
        priority=10,  # tier C
        path=(*START, "billing", "billing_after", "to_billing"),
        customer_id=2,
        facts={"identified": "account", "heard": "balance"},
    ),
    Scenario(
        "reports a gas leak: urgent ticket, emergency queue, top priority",
        UNKNOWN_PHONE,
        ("2", "1"),
        "queue",
        skill="emergency",
        priority=1000,
        path=(*START, "fault"),
        facts={"fault": "燃气泄漏", "emergency": "yes"},
        ticket_priority="urgent",
    ),
    Scenario(
        "reports a faulty meter: a ticket, self-service, no agent",
        ZHANG_PHONE,
        ("2", "3", ""),
        "self_service",
        path=(*START, "fault", "fault_after", "goodbye"),
        customer_id=1,
        facts={"fault": "燃气表故障"},
        ticket_priority="normal",
    ),
    Scenario(
        "requests a callback on the caller ID",
        ZHANG_PHONE,
        ("4",),
        "callback",
        skill="general",
        priority=30,
        path=(*START, "callback"),
        customer_id=1,
        callback_number=ZHANG_PHONE,
    ),
    Scenario(
        "presses garbage and times out into an agent",
        UNKNOWN_PHONE,
        ("7", "", "8"),
        "queue",
        skill="general",
        priority=0,
        path=(*START, "operator"),
        facts={"operator": "invalid"},
    ),
    Scenario(
        "0 at any menu is an operator",
        ZHANG_PHONE,
        ("2", "0"),
        "queue",
        skill="general",
        priority=30,
        path=(*START, "fault", "operator"),
        customer_id=1,
        facts={"operator": "requested"},
    ),
    Scenario(
        "* repeats, # goes back to the main menu",
        ZHANG_PHONE,
        ("*", "3", "#", "5"),
        "queue",
        skill="business",
        priority=30,
        path=(*START, "notices", "notices_after", "main", "to_business"),
        customer_id=1,
        facts={"notices": "0"},
    ),
    Scenario(
        "English by key, then complaints",
        UNKNOWN_PHONE,
        ("9", "2", "6"),
        "queue",
        skill="complaint",
        priority=0,
        path=(*START, "language", "main", "to_complaint"),
        facts={"language": "en"},
    ),
    Scenario("hangs up at the main menu", ZHANG_PHONE, (), None, path=START),
    Scenario(
        "hangs up while typing the account number",
        UNKNOWN_PHONE,
        ("1",),
        None,
        path=(*START, "billing"),
    ),
    Scenario(
        "hangs up in the fault menu",
        UNKNOWN_PHONE,
        ("2",),
        None,
        path=(*START, "fault"),
    ),
]
