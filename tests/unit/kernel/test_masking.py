"""Numbers masked for display (kernel/masking.py): what stays visible, what never does."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel.masking import mask_id_number, mask_phone, mask_phones_in_text


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("13912345678", "139****5678"),  # a mobile: carrier prefix and the last four
        ("02161234567", "021****4567"),  # a landline with its area code
        ("0571-88001234", "057*-****1234"),  # separators stay where they were
        ("+8613912345678", "+861******5678"),
        ("61234567", "****4567"),  # a local landline without area code
        ("95777", "***77"),  # a short service number: the last two
        ("1001", "****"),  # four digits or fewer: nothing shown
        ("", ""),
    ],
)
def test_given_a_number_then_the_mask_keeps_only_head_and_tail(number: str, masked: str) -> None:
    assert mask_phone(number) == masked


def test_given_none_then_none() -> None:
    assert mask_phone(None) is None
    assert mask_id_number(None) is None


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("110101199003071234", "110***********1234"),
        ("11010119900307123X", "110***********123X"),
        ("1234567", "*******"),
    ],
)
def test_given_an_id_number_then_first_three_and_last_four(value: str, masked: str) -> None:
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("来电13912345678，请回电", "来电139****5678，请回电"),
        ("caller=13800138000 queued", "caller=138****8000 queued"),
        ("回电号码 0571-88001234", "回电号码 057*-****1234"),
        ("call from 13912345678.", "call from 139****5678."),
    ],
)
def test_given_text_with_phones_then_each_is_masked(text: str, masked: str) -> None:
    assert mask_phones_in_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "linkedid 1733312345.12 answered",  # a Linkedid is not a phone
        "PJSIP/1001-00000012 hung up",  # a channel's sequence
        "ticket GD20261122-000123 created",  # a ticket number
        "at 2026-12-04 09:00:00",  # a date and a time
        "queue billing: 12 waiting, 340 s",
    ],
)
def test_given_text_without_phones_then_it_is_unchanged(text: str) -> None:
    assert mask_phones_in_text(text) == text


MOBILES = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@given(MOBILES)
def test_a_masked_mobile_keeps_its_length_and_hides_the_middle(number: str) -> None:
    masked = mask_phone(number)
    assert masked is not None
    assert len(masked) == len(number)
    assert (masked[:3], masked[-4:]) == (number[:3], number[-4:])
    assert masked[3:-4] == "****"


@given(st.text(max_size=40), MOBILES, st.text(max_size=40))
def test_no_mobile_survives_in_text(before: str, number: str, after: str) -> None:
    """Whatever surrounds it (other than digits glued to it), a mobile number in text is
    never left whole."""
    text = f"{before} {number} {after}"
    assert number not in mask_phones_in_text(text) or number in f"{before}{after}"


@given(st.text(max_size=80))
def test_masking_text_is_idempotent_and_never_grows(text: str) -> None:
    once = mask_phones_in_text(text)
    assert mask_phones_in_text(once) == once
    assert len(once) == len(text)


@given(st.from_regex(r"\+?[0-9][0-9 \-]{0,18}", fullmatch=True))
def test_masking_a_masked_number_changes_nothing(number: str) -> None:
    once = mask_phone(number)
    assert mask_phone(once) == once
