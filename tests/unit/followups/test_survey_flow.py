"""The keypad survey flow: 2 then 1 = rating 2, not resolved; retries; post-call."""

from __future__ import annotations

from followups.survey import Ask, Finish, Say, SurveyFlow, SurveyKind, SurveyOutcome


def follow_up() -> SurveyFlow:
    return SurveyFlow(
        SurveyKind.FOLLOW_UP, center="滨江客服中心", number="GD1-2", resolution="已更换"
    )


def keys_of(steps: list[Say | Ask | Finish]) -> list[str]:
    return [s.key if not isinstance(s, Finish) else "finish" for s in steps]


def test_pressing_2_then_1_rates_2_and_says_not_resolved() -> None:
    flow = follow_up()
    opening = flow.start()
    assert keys_of(opening) == ["intro", "rating"]
    intro = opening[0]
    assert isinstance(intro, Say)
    assert "G D 1 - 2" in intro.text
    assert "已更换" in intro.text
    assert intro.digits == "GD1-2"
    ask = opening[1]
    assert isinstance(ask, Ask)
    assert ask.keys == "12345"
    second = flow.answer("2")
    assert keys_of(second) == ["resolved"]
    assert isinstance(second[0], Ask)
    assert second[0].keys == "12"
    end = flow.answer("1")
    assert keys_of(end) == ["reopened", "finish"]
    assert end[-1] == Finish(
        SurveyOutcome(rating=2, resolved=False, inputs=("2", "1"), finished=True)
    )


def test_a_satisfied_customer_who_is_helped_hears_thanks() -> None:
    flow = follow_up()
    flow.start()
    flow.answer("5")
    end = flow.answer("2")
    assert keys_of(end) == ["thanks", "finish"]
    assert flow.outcome() == SurveyOutcome(5, True, ("5", "2"), True)


def test_a_wrong_key_or_silence_repeats_once_then_the_answer_stays_unknown() -> None:
    flow = follow_up()
    flow.start()
    assert keys_of(flow.answer("9")) == ["invalid", "rating"]
    assert keys_of(flow.answer(None)) == ["resolved"]  # second failure: move on
    assert keys_of(flow.answer(None)) == ["resolved"]  # silence: asked again, no "invalid"
    assert keys_of(flow.answer("2")) == ["thanks", "finish"]
    assert flow.outcome() == SurveyOutcome(None, True, ("9", "timeout", "timeout", "2"), True)


def test_a_hang_up_leaves_what_was_answered() -> None:
    flow = follow_up()
    flow.start()
    flow.answer("4")
    assert flow.outcome() == SurveyOutcome(4, None, ("4",), False)


def test_the_post_call_survey_asks_the_rating_only_in_english_too() -> None:
    flow = SurveyFlow(SurveyKind.POST_CALL, language="en")
    opening = flow.start()
    assert keys_of(opening) == ["post_call", "rating"]
    assert isinstance(opening[1], Ask)
    assert "press 5" in opening[1].text
    end = flow.answer("3")
    assert keys_of(end) == ["thanks", "finish"]
    assert flow.outcome() == SurveyOutcome(3, None, ("3",), True)
