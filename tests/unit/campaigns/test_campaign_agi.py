"""The campaign route's pure helpers: the AMD variables the engine sets for the dialplan,
a campaign's own AMD rules over config's, and the survey's rating."""

from __future__ import annotations

from typing import Any

import pytest

from campaigns.agi import _rating, amd_settings, channel_vars
from campaigns.scripts import Question, SurveyScript
from kernel.config.campaigns import AmdSettings


def test_given_amd_settings_then_each_parameter_is_its_own_channel_variable() -> None:
    found = channel_vars(AmdSettings(greeting=1200))
    assert found == {
        "HOTLINE_AMD": "1",
        "HOTLINE_AMD_INITIAL_SILENCE": "2500",
        "HOTLINE_AMD_GREETING": "1200",
        "HOTLINE_AMD_AFTER_GREETING_SILENCE": "800",
        "HOTLINE_AMD_TOTAL_ANALYSIS_TIME": "5000",
    }
    assert not any("," in v for v in found.values())  # AMI splits Variable on commas
    assert channel_vars(AmdSettings(), enabled=False)["HOTLINE_AMD"] == "0"
    assert channel_vars(AmdSettings(enabled=False))["HOTLINE_AMD"] == "0"


@pytest.mark.parametrize(
    ("rules", "on_machine", "greeting"),
    [
        ({}, "hangup", 1500),
        ({"amd": {"on_machine": "leave_message"}}, "leave_message", 1500),
        ({"amd": {"greeting": 2000}}, "hangup", 2000),
        ({"amd": {"on_machine": "shout"}}, "hangup", 1500),  # invalid: config's
        ({"amd": "yes"}, "hangup", 1500),
    ],
)
def test_given_campaign_rules_then_its_amd_settings_go_over_configs(
    rules: dict[str, Any], on_machine: str, greeting: int
) -> None:
    amd = amd_settings(AmdSettings(), rules)
    assert (amd.on_machine, amd.greeting) == (on_machine, greeting)


SURVEY = SurveyScript(
    questions=[
        Question(key="recommend", text="推荐吗？1是2否", min=1, max=2),
        Question(key="score", text="打分1-5", min=1, max=5),
        Question(key="nps", text="0-9", min=0, max=9),
    ]
)


@pytest.mark.parametrize(
    ("answers", "rating"),
    [
        ({"recommend": 1, "score": 4, "nps": 9}, 4),  # the first question on the 1-5 scale
        ({"recommend": 2}, None),  # the 1-5 question was not answered
        ({}, None),
    ],
)
def test_given_survey_answers_then_the_rating_is_the_first_question_on_the_one_to_five_scale(
    answers: dict[str, int], rating: int | None
) -> None:
    assert _rating(SURVEY, answers) == rating
