"""The qa section of config.yaml: defaults valid without the section, errors naming the key."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from kernel.config.backoffice import QaSettings

CRITERION = {"key": "greeting", "label": {"zh": "问候", "en": "Greeting"}, "max_points": 5}


def form(**extra: Any) -> dict[str, Any]:
    return {"key": "f", "label": {"zh": "表", "en": "Form"}, **extra}


def test_given_no_qa_section_then_the_defaults_hold_one_form() -> None:
    settings = QaSettings()
    assert settings.form(settings.default_form) is not None
    assert settings.samples_per_agent_week == 3


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"forms": [form(criteria=[{**CRITERION, "weight": 0}])]}, "greater than 0"),
        ({"forms": [form(criteria=[{**CRITERION, "weight": 1, "max_points": 0}])]}, "max_points"),
        ({"forms": [form(criteria=[])]}, "at least 1"),
        (
            {"forms": [form(criteria=[{**CRITERION, "weight": 1}, {**CRITERION, "weight": 2}])]},
            "keys used twice: greeting",
        ),
        ({"forms": [form(criteria=[{**CRITERION, "weight": 1}])]}, "default_form 'utility_call'"),
        ({"evaluation": {"survey": 0, "qa": 0, "supervisor": 0}}, "at least one evaluation"),
        ({"samples_per_agent_week": 0}, "samples_per_agent_week"),
    ],
)
def test_given_a_bad_qa_section_then_it_is_refused_with_the_reason(
    section: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        QaSettings.model_validate(section)


def test_given_a_form_of_our_own_then_it_becomes_the_default() -> None:
    settings = QaSettings.model_validate(
        {"forms": [form(criteria=[{**CRITERION, "weight": 2}])], "default_form": "f"}
    )
    assert settings.form("f") is not None
