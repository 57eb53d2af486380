"""A score's total from a form of config.yaml: weights, max points, fatal errors; and the
validation of what an inspector submits (every criterion, whole points in range, the
form's own fatal errors)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel.config.backoffice import QaCriterion, QaFatalError, QaForm, QaSettings
from kernel.config.common import Label
from qa.scoring import InvalidScore, check, total_of

L = Label(zh="项", en="item")
FORM = QaForm(
    key="small",
    label=L,
    criteria=[
        QaCriterion(key="greeting", label=L, weight=1, max_points=5),
        QaCriterion(key="accuracy", label=L, weight=3, max_points=10),
    ],
    fatal_errors=[QaFatalError(key="rude", label=L)],
)
DEFAULT = QaSettings().forms[0]


@pytest.mark.parametrize(
    ("answers", "fatal", "total"),
    [
        ({"greeting": 5, "accuracy": 10}, [], 100.0),
        ({"greeting": 0, "accuracy": 0}, [], 0.0),
        ({"greeting": 5, "accuracy": 0}, [], 25.0),  # weight 1 of 4
        ({"greeting": 0, "accuracy": 5}, [], 37.5),  # half of weight 3 of 4
        ({"greeting": 5, "accuracy": 10}, ["rude"], 0.0),  # fatal: 0 whatever else
    ],
)
def test_given_answers_then_the_total_weighs_each_criterion(
    answers: dict[str, int], fatal: list[str], total: float
) -> None:
    assert check(FORM, answers, fatal).total == total


def test_given_the_default_form_then_it_is_the_utility_hotline_form() -> None:
    assert [c.key for c in DEFAULT.criteria] == [
        "greeting", "identity_check", "understanding", "correct_info", "ticket_complete",
        "courtesy", "closing",
    ]  # fmt: skip
    assert [f.key for f in DEFAULT.fatal_errors] == [
        "rude", "data_disclosed", "gas_leak_not_escalated",
    ]  # fmt: skip
    full = {c.key: c.max_points for c in DEFAULT.criteria}
    assert check(DEFAULT, full).total == 100.0
    assert check(DEFAULT, full, ["gas_leak_not_escalated"]).total == 0.0


@pytest.mark.parametrize(
    ("answers", "fatal", "message"),
    [
        ({"greeting": 5}, [], "missing accuracy"),
        ({"greeting": 5, "accuracy": 10, "smile": 3}, [], "no criterion smile"),
        (
            {"greeting": 6, "accuracy": 10},
            [],
            "greeting: points must be a whole number from 0 to 5",
        ),
        ({"greeting": -1, "accuracy": 10}, [], "from 0 to 5"),
        ({"greeting": True, "accuracy": 10}, [], "whole number"),
        ({"greeting": 5, "accuracy": 10}, ["late"], "no fatal error late"),
        ({"greeting": 5, "accuracy": 10}, ["rude", "rude"], "named twice"),
    ],
)
def test_given_a_score_that_does_not_fit_then_it_is_refused_with_the_reason(
    answers: dict[str, int], fatal: list[str], message: str
) -> None:
    with pytest.raises(InvalidScore, match=message):
        check(FORM, answers, fatal)


@given(
    greeting=st.integers(0, 5),
    accuracy=st.integers(0, 10),
    fatal=st.booleans(),
)
def test_given_any_valid_answers_then_the_total_is_a_percentage(
    greeting: int, accuracy: int, fatal: bool
) -> None:
    answers = {"greeting": greeting, "accuracy": accuracy}
    result = check(FORM, answers, ["rude"] if fatal else [])
    assert 0.0 <= result.total <= 100.0
    assert result.total == (0.0 if fatal else total_of(FORM, answers))
    better = check(FORM, {**answers, "accuracy": 10}).total
    assert fatal or better >= result.total  # more points never lower the total
