"""Campaign scripts: the models per kind (what the campaigns API accepts) and the
message text rendered with a contact's data (never fails, amounts read as money)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.scripts import (
    AppointmentScript,
    MessageScript,
    ScriptError,
    SurveyScript,
    contact_fields,
    money,
    parse_script,
    render_text,
)
from db.models.campaigns import CampaignKind

SLOTS = [
    {"key": "1", "label": "12月8日上午", "date": "2026-12-08", "period": "am"},
    {"key": "2", "label": "12月8日下午", "date": "2026-12-08", "period": "pm"},
]


@pytest.mark.parametrize(
    ("kind", "data", "model"),
    [
        (CampaignKind.MESSAGE, {"text": "{name}您好，您的欠费为{arrears}。"}, MessageScript),
        (CampaignKind.MESSAGE, {"text": "Hello {name}", "language": "en"}, MessageScript),
        (
            CampaignKind.SURVEY,
            {"questions": [{"key": "rating", "text": "请评分", "min": 1, "max": 5}]},
            SurveyScript,
        ),
        (
            CampaignKind.APPOINTMENT,
            {"intro": "安检预约", "slots": SLOTS, "category": "inquiry"},
            AppointmentScript,
        ),
    ],
)
def test_given_a_valid_script_when_parsed_then_its_kinds_model_holds_it(
    kind: CampaignKind, data: dict[str, Any], model: type
) -> None:
    script = parse_script(kind, data, categories=["inquiry", "repair"])
    assert isinstance(script, model)


@pytest.mark.parametrize(
    ("kind", "data", "words"),
    [
        (CampaignKind.MESSAGE, {}, "text"),
        (CampaignKind.MESSAGE, {"text": "   "}, "text"),
        (CampaignKind.MESSAGE, {"text": "x", "language": "fr"}, "language"),
        (CampaignKind.MESSAGE, {"text": "x", "extra": 1}, "extra"),
        (CampaignKind.SURVEY, {"questions": []}, "questions"),
        (CampaignKind.SURVEY, {"questions": [{"key": "q", "text": "t", "max": 10}]}, "max"),
        (
            CampaignKind.SURVEY,
            {"questions": [{"key": "q", "text": "t", "min": 4, "max": 2}]},
            "min 4",
        ),
        (
            CampaignKind.SURVEY,
            {"questions": [{"key": "q", "text": "a"}, {"key": "q", "text": "b"}]},
            "used twice: q",
        ),
        (CampaignKind.APPOINTMENT, {"slots": SLOTS, "category": "nope"}, "unknown ticket category"),
        (CampaignKind.APPOINTMENT, {"slots": [], "category": "inquiry"}, "slots"),
        (
            CampaignKind.APPOINTMENT,
            {"slots": [{**SLOTS[0], "key": "9"}], "category": "inquiry"},
            "slots.0.key",
        ),
        (CampaignKind.APPOINTMENT, {"slots": [SLOTS[0], SLOTS[0]], "category": "inquiry"}, "twice"),
        (
            CampaignKind.APPOINTMENT,
            {"slots": [{**SLOTS[0], "date": "not a date"}], "category": "inquiry"},
            "date",
        ),
        ("fax", {}, "unknown campaign kind"),
    ],
)
def test_given_a_bad_script_when_parsed_then_script_error_names_the_problem(
    kind: str, data: dict[str, Any], words: str
) -> None:
    with pytest.raises(ScriptError) as caught:
        parse_script(kind, data, categories=["inquiry"])
    assert words in caught.value.message


def test_given_no_category_list_when_an_appointment_is_parsed_then_any_category_passes() -> None:
    script = parse_script(CampaignKind.APPOINTMENT, {"slots": SLOTS, "category": "repair"})
    assert isinstance(script, AppointmentScript)
    slot = script.slot("2")
    assert slot is not None
    assert slot.date == dt.date(2026, 12, 8)
    assert script.slot("7") is None


@pytest.mark.parametrize(
    ("value", "language", "spoken"),
    [
        (Decimal("128.5"), "zh", "128.50元"),
        ("1,280", "zh", "1280.00元"),
        (0, "zh", "0.00元"),
        (99.999, "en", "100.00 yuan"),
        ("128.50元", "zh", "128.50元"),
        ("unknown", "zh", "unknown"),
        ("", "zh", ""),
        (None, "zh", ""),
        ("NaN", "zh", "NaN"),
    ],
)
def test_given_an_amount_when_spoken_then_it_reads_as_chinese_money(
    value: object, language: str, spoken: str
) -> None:
    assert money(value, language) == spoken


@pytest.mark.parametrize(
    ("template", "fields", "text"),
    [
        (
            "{name}您好，您的欠费为{arrears}。",
            {"name": "孙丽", "arrears": Decimal("128.5")},
            "孙丽您好，您的欠费为128.50元。",
        ),
        ("{name}您好", {}, "您好"),
        (
            "停气时间：{outage_window}，{district}",
            {"outage_window": "12月8日9时至17时", "district": "东城区"},
            "停气时间：12月8日9时至17时，东城区",
        ),
        (
            "户号{account}，余额{balance}",
            {"account": "3301008888", "balance": 20},
            "户号3301008888，余额20.00元",
        ),
        ("应缴{water_amount}", {"water_amount": "35.2"}, "应缴35.20元"),
        ("{ 不是 } {{name}} {", {"name": "王"}, "{ 不是 } {王} {"),
        ("{meter}", {"meter": 12}, "12"),
    ],
)
def test_given_a_template_when_rendered_then_fields_fill_it_and_missing_ones_are_empty(
    template: str, fields: dict[str, Any], text: str
) -> None:
    assert render_text(template, fields) == text


def test_given_customer_and_contact_data_when_fields_are_built_then_the_contact_data_wins() -> None:
    fields = contact_fields(
        {"arrears": "50", "outage_window": "明天", "nested": {"x": 1}, "none": None},
        {"name": "孙丽", "arrears": Decimal("128.50"), "district": "东城区", "tier": None},
        name="孙女士",
    )
    assert fields["name"] == "孙女士"
    assert fields["arrears"] == "50"
    assert fields["district"] == "东城区"
    assert fields["balance"] == ""
    assert "nested" not in fields
    assert "none" not in fields


@given(
    st.text(max_size=200),
    st.dictionaries(
        st.text(max_size=10),
        st.one_of(
            st.none(),
            st.text(max_size=10),
            st.integers(),
            st.decimals(allow_nan=True, allow_infinity=True),
        ),
    ),
)
def test_rendering_never_fails(template: str, fields: dict[str, Any]) -> None:
    assert isinstance(render_text(template, fields), str)
    assert isinstance(render_text(template, contact_fields(fields, fields), "en"), str)


@given(st.one_of(st.decimals(), st.floats(), st.text(max_size=20), st.integers()))
def test_money_never_fails(value: object) -> None:
    assert isinstance(money(value), str)
