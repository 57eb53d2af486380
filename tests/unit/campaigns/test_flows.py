"""The campaign call flows, pure: message (1 repeat, 2 agent, 3 confirm, 9 opt out),
survey (questions with key ranges) and appointment (pick a slot, confirm)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.flows import (
    AppointmentFlow,
    Ask,
    Finish,
    Flow,
    FlowResult,
    MessageFlow,
    Say,
    Step,
    SurveyFlow,
    Transfer,
)
from campaigns.scripts import AppointmentScript, Question, Slot, SurveyScript

MESSAGE = "孙丽您好，您的燃气费欠费128.50元，请于12月10日前缴纳。"
SURVEY = SurveyScript(
    intro="您好，这里是燃气热线满意度调查。",
    questions=[
        Question(key="rating", text="请为本次服务评分，1到5分。", min=1, max=5),
        Question(key="again", text="是否愿意再次使用？是请按1，否请按2。", min=1, max=2),
    ],
    thanks="谢谢，再见。",
)
APPOINTMENT = AppointmentScript(
    intro="您好，您家的燃气安全检查需要预约时间。",
    slots=[
        Slot(key="1", label="12月8日上午", date=dt.date(2026, 12, 8), period="am"),
        Slot(key="2", label="12月8日下午", date=dt.date(2026, 12, 8), period="pm"),
    ],
    category="inquiry",
)


def run(flow: Flow, keys: list[str | None]) -> tuple[list[Step], FlowResult | None]:
    """Feed the keys to the flow; every step played, and the result if it finished."""
    steps = flow.start()
    played: list[Step] = []
    pending = list(keys)
    while steps:
        step, steps = steps[0], steps[1:]
        played.append(step)
        if isinstance(step, Finish):
            return played, step.result
        if isinstance(step, Ask):
            if not pending:
                return played, None
            steps = flow.answer(pending.pop(0))
    raise AssertionError("a flow ended without Finish")


def keys_of(steps: list[Step]) -> list[str]:
    return [s.key for s in steps if isinstance(s, Say | Ask)]


def message() -> MessageFlow:
    return MessageFlow(text=MESSAGE)


@pytest.mark.parametrize(
    ("keys", "end", "heard"),
    [
        (["3"], "confirmed", ["menu", "confirmed"]),
        (["9"], "opted_out", ["menu", "opted_out"]),
        (["2"], "agent", ["menu", "to_agent"]),
        ([None, None], "heard", ["menu", "menu", "goodbye"]),
        (["1", "3"], "confirmed", ["menu", "menu", "confirmed"]),
        (["1", "1", "1", "1"], "heard", ["menu"] * 4 + ["goodbye"]),
        (["5", "3"], "confirmed", ["menu", "invalid", "menu", "confirmed"]),
        (["*", "#", "0"], "errors", ["menu", "invalid", "menu", "invalid", "menu", "goodbye"]),
        ([None, "1", "9"], "opted_out", ["menu", "menu", "menu", "opted_out"]),
    ],
)
def test_given_a_message_when_the_customer_presses_keys_then_the_flow_ends_as_expected(
    keys: list[str | None], end: str, heard: list[str]
) -> None:
    played, result = run(message(), keys)
    assert result is not None
    assert result.end == end
    assert result.finished
    assert keys_of(played) == heard
    assert result.keys == "".join(k for k in keys if k)
    assert result.confirmed is (end == "confirmed")
    assert result.opted_out is (end == "opted_out")
    assert result.agent is (end == "agent")


def test_given_a_message_when_it_starts_then_the_text_comes_before_the_menu_and_any_key_interrupts() -> (
    None
):
    [ask] = message().start()
    assert isinstance(ask, Ask)
    assert ask.texts[0] == MESSAGE
    assert "按1" in ask.texts[1]
    assert set(ask.keys) == set("0123456789*#")


def test_given_an_invalid_key_when_the_menu_comes_again_then_the_message_is_not_replayed() -> None:
    flow = message()
    flow.start()
    steps = flow.answer("7")
    assert isinstance(steps[0], Say)
    assert steps[0].key == "invalid"
    assert isinstance(steps[1], Ask)
    assert MESSAGE not in steps[1].texts


def test_given_key_2_then_the_call_is_transferred_before_the_flow_finishes() -> None:
    flow = message()
    flow.start()
    steps = flow.answer("2")
    assert [type(s) for s in steps] == [Say, Transfer, Finish]
    finish = steps[-1]
    assert isinstance(finish, Finish)
    assert finish.result.answers == {"agent": True}


def test_given_an_english_customer_then_the_menu_is_english() -> None:
    [ask] = MessageFlow(text="Hello", language="en").start()
    assert isinstance(ask, Ask)
    assert ask.texts[1].startswith("To hear this again press 1")


def test_given_a_hang_up_mid_message_then_the_result_says_where() -> None:
    flow = message()
    flow.start()
    flow.answer("1")
    result = flow.hung_up()
    assert (result.end, result.finished, result.where, result.keys) == (
        "hangup",
        False,
        "menu",
        "1",
    )


def test_given_a_hang_up_during_the_goodbye_then_the_flow_had_ended() -> None:
    flow = message()
    flow.start()
    flow.answer("3")
    assert flow.hung_up().end == "confirmed"


def test_given_a_finished_flow_when_a_key_comes_then_it_refuses() -> None:
    flow = message()
    flow.start()
    flow.answer("3")
    with pytest.raises(RuntimeError):
        flow.answer("1")


@pytest.mark.parametrize(
    ("keys", "answers", "heard"),
    [
        (["5", "1"], {"rating": 5, "again": 1}, ["intro", "rating", "again", "thanks"]),
        (
            ["7", "4", "2"],
            {"rating": 4, "again": 2},
            ["intro", "rating", "invalid", "rating", "again", "thanks"],
        ),
        (
            [None, None, None, "2"],
            {"again": 2},
            ["intro", "rating", "rating", "rating", "again", "thanks"],
        ),
        (
            ["0", "#", "*", None, None, None],
            {},
            [
                "intro",
                "rating",
                "invalid",
                "rating",
                "invalid",
                "rating",
                "again",
                "again",
                "again",
                "thanks",
            ],
        ),
    ],
)
def test_given_a_survey_when_keys_come_then_answers_in_range_are_kept_and_others_skipped(
    keys: list[str | None], answers: dict[str, int], heard: list[str]
) -> None:
    played, result = run(SurveyFlow(script=SURVEY), keys)
    assert result is not None
    assert result.end == "done"
    assert result.answers == answers
    assert keys_of(played) == heard


def test_given_a_survey_when_the_customer_hangs_up_after_one_answer_then_it_is_kept() -> None:
    flow = SurveyFlow(script=SURVEY)
    flow.start()
    flow.answer("3")
    result = flow.hung_up()
    assert (result.end, result.where, result.answers) == ("hangup", "again", {"rating": 3})


@pytest.mark.parametrize(
    ("keys", "end", "slot"),
    [
        (["2", "1"], "booked", "2"),
        (["1", "2", "2", "1"], "booked", "2"),
        (["9"], "declined", None),
        (["5", None, "1", "1"], "booked", "1"),
        (["5", "6", "7"], "no_choice", None),
        (["1", "3", None, "#"], "no_choice", None),
    ],
)
def test_given_an_appointment_when_keys_come_then_a_slot_is_booked_or_not(
    keys: list[str | None], end: str, slot: str | None
) -> None:
    _played, result = run(AppointmentFlow(script=APPOINTMENT), keys)
    assert result is not None
    assert result.end == end
    assert (result.slot.key if result.slot else None) == slot
    if slot is not None:
        assert result.answers["slot"]["key"] == slot
        assert result.answers["slot"]["date"] == "2026-12-08"


def test_given_an_appointment_then_the_slots_are_read_with_their_keys() -> None:
    [ask] = AppointmentFlow(script=APPOINTMENT).start()
    assert isinstance(ask, Ask)
    assert ask.texts[0] == APPOINTMENT.intro
    assert "12月8日上午请按1" in ask.texts[1]
    assert "12月8日下午请按2" in ask.texts[1]
    assert ask.keys == "129"


KEYS = st.lists(
    st.one_of(st.none(), st.sampled_from(list("0123456789*#")), st.text(max_size=3)), max_size=40
)


def make_flow(i: int) -> Flow:
    if i == 0:
        return message()
    if i == 1:
        return SurveyFlow(script=SURVEY)
    return AppointmentFlow(script=APPOINTMENT)


def flows() -> st.SearchStrategy[Flow]:
    return st.sampled_from([0, 1, 2]).map(make_flow)


@settings(max_examples=300)
@given(flows(), KEYS, st.booleans())
def test_any_key_sequence_never_crashes_and_always_ends(
    flow: Flow, keys: list[str | None], hang_up: bool
) -> None:
    padded = keys + [None] * 40  # a silent customer after the keys: the flow still ends
    if hang_up:
        _played, result = run(flow, keys)
        result = result or flow.hung_up()
        assert result.finished or result.end == "hangup"
    else:
        _played, result = run(flow, padded)
        assert result is not None
        assert result.finished
    assert (
        result.keys
        == "".join(k[:1] for k in (keys if hang_up else padded) if k)[: len(result.keys)]
    )
