"""The SMS channel's decisions (integrations/sms_rules.py): what a gateway's answer
means, the retry schedule, and which ticket state change texts whom with which words."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.sms_rules import (
    Step,
    TicketChange,
    Verdict,
    after_attempt,
    backoff,
    render,
    rule_for,
    schedule,
    state_change,
    verdict,
)
from kernel.config.campaigns import SmsCategoryRule, SmsSettings


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, Verdict.SENT),
        (201, Verdict.SENT),
        (204, Verdict.SENT),
        (400, Verdict.REJECTED),
        (401, Verdict.REJECTED),
        (404, Verdict.REJECTED),
        (422, Verdict.REJECTED),
        (408, Verdict.RETRY),
        (429, Verdict.RETRY),
        (500, Verdict.RETRY),
        (502, Verdict.RETRY),
        (503, Verdict.RETRY),
        (302, Verdict.RETRY),
        (None, Verdict.RETRY),
    ],
)
def test_given_an_http_status_then_the_verdict_is_sent_rejected_or_retry(
    status: int | None, expected: Verdict
) -> None:
    assert verdict(status) is expected


def test_given_defaults_then_the_backoff_doubles_from_5s_and_is_capped() -> None:
    settings = SmsSettings()
    assert [backoff(settings, n) for n in range(1, 12)] == [
        5,
        10,
        20,
        40,
        80,
        160,
        320,
        640,
        1280,
        1800,
        1800,
    ]


def test_given_max_attempts_then_the_schedule_has_one_wait_less() -> None:
    settings = SmsSettings(max_attempts=4, backoff_seconds=2, backoff_max_seconds=100)
    assert schedule(settings) == [2.0, 4.0, 8.0]


@given(
    st.floats(0.1, 100),
    st.floats(0.1, 10_000),
    st.integers(1, 60),
)
def test_given_any_settings_then_waits_never_shrink_and_never_pass_the_cap(
    first: float, cap: float, n: int
) -> None:
    settings = SmsSettings(backoff_seconds=first, backoff_max_seconds=cap)
    waits = [backoff(settings, k) for k in range(1, n + 1)]
    assert waits == sorted(waits)
    assert all(w <= cap for w in waits)


@pytest.mark.parametrize(
    ("attempt", "result", "expected"),
    [
        (1, Verdict.SENT, Step("sent")),
        (3, Verdict.SENT, Step("sent")),
        (1, Verdict.REJECTED, Step("failed")),
        (1, Verdict.RETRY, Step("pending", 5.0)),
        (2, Verdict.RETRY, Step("pending", 10.0)),
        (2, Verdict.REJECTED, Step("failed")),
        (3, Verdict.RETRY, Step("failed")),  # the third of three
    ],
)
def test_given_an_attempt_result_then_the_message_is_sent_failed_or_waits(
    attempt: int, result: Verdict, expected: Step
) -> None:
    assert after_attempt(SmsSettings(max_attempts=3), attempt, result) == expected


def event(
    *, field: str | None = "state", to: str | None = "resolved", category: str = "repair"
) -> dict[str, Any]:
    return {
        "type": "ticket.resolved",
        "event_id": "te-9",
        "ticket": {
            "id": 7,
            "number": "GD20261118-0007",
            "category": category,
            "state": "resolved",
            "customer_id": 3,
            "contact_number": "13800138000",
            "contact_name": "王芳",
        },
        "change": {"action": "resolved", "field": field, "from": "new", "to": to},
    }


def test_given_a_state_event_then_the_change_names_ticket_state_and_customer() -> None:
    change = state_change(event())
    assert change == TicketChange(
        ticket_id=7,
        number="GD20261118-0007",
        category="repair",
        state="resolved",
        customer_id=3,
        contact_number="13800138000",
        contact_name="王芳",
    )
    assert change.reason == "ticket_state:resolved"


@pytest.mark.parametrize(
    "message",
    [
        event(field="assignee_id"),
        event(field="resolution"),
        event(to=None),
        {"type": "ticket.resolved"},
        {"type": "sla.breach", "ticket": {"id": 1}, "change": {"field": "state", "to": "x"}},
        {**event(), "ticket": {"id": "7"}},
    ],
)
def test_given_an_event_that_is_no_state_change_then_there_is_none(
    message: dict[str, Any],
) -> None:
    assert state_change(message) is None


RULES = [
    SmsCategoryRule(
        category="repair", states=["resolved", "closed"], text="{name}您好，工单{number}已{state}"
    ),
    SmsCategoryRule(category="complaint", states=["resolved"]),
]


@pytest.mark.parametrize(
    ("category", "state", "expected"),
    [
        ("repair", "resolved", 0),
        ("repair", "closed", 0),
        ("repair", "in_progress", None),
        ("complaint", "resolved", 1),
        ("complaint", "closed", None),
        ("inquiry", "resolved", None),
    ],
)
def test_given_rules_per_category_then_only_listed_states_text(
    category: str, state: str, expected: int | None
) -> None:
    change = state_change(event(category=category, to=state))
    assert change is not None
    rule = rule_for(RULES, change)
    assert rule is (None if expected is None else RULES[expected])


def test_given_a_text_then_the_four_fields_are_filled_in_chinese() -> None:
    text = "{name}您好，您的{category}工单{number}状态：{state}。"
    assert (
        render(text, number="GD-1", category="故障报修", state="resolved", name="王芳")
        == "王芳您好，您的故障报修工单GD-1状态：resolved。"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("欠费{amount}元，工单{number}", "欠费{amount}元，工单GD-1"),  # unknown field kept
        ("括号{不配对", "括号{不配对"),  # unbalanced: the text as configured
        ("{0}号", "{0}号"),
        ("{{字面}}{number}", "{字面}GD-1"),
    ],
)
def test_given_a_text_with_a_typo_then_it_is_still_sent(text: str, expected: str) -> None:
    assert render(text, number="GD-1", category="c", state="s", name="n") == expected


def test_given_the_default_rule_then_its_chinese_text_names_the_ticket() -> None:
    rule = SmsCategoryRule(category="repair")
    assert rule.states == ["resolved"]
    assert "GD-1" in render(rule.text, number="GD-1", category="", state="", name="")
