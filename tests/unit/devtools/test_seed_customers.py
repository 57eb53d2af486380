"""The demo customer generator: deterministic, realistic, and insertable as is."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal

import pytest

from devtools.seed.customers import (
    Row,
    account_number,
    account_number_valid,
    generate_customers,
    luhn_digit,
)
from devtools.seed.places import DISTRICTS

Sample = list[tuple[Row, list[Row]]]
NOW = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)
HAN = re.compile(r"^[\u4e00-\u9fff]+$")
LATIN = re.compile(r"^[A-Z][a-zü]+ [A-Z][a-zü]+$")
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0596[2-8]\d{7}$")


@pytest.fixture(scope="module")
def sample() -> Sample:
    return list(generate_customers(seed=7, first_id=1, count=5000, now=NOW))


def test_given_the_same_arguments_then_the_same_rows() -> None:
    a = list(generate_customers(3, 100, 200, NOW))
    b = list(generate_customers(3, 100, 200, NOW))
    c = list(generate_customers(4, 100, 200, NOW))
    assert a == b
    assert a != c


def test_ids_and_account_numbers_follow_first_id_and_are_unique(sample: Sample) -> None:
    ids = [c["id"] for c, _ in sample]
    assert ids == list(range(1, 5001))
    accounts = [c["account_number"] for c, _ in sample]
    assert len(set(accounts)) == len(accounts)
    assert all(account_number_valid(a) for a in accounts)
    more = list(generate_customers(7, 5001, 10, NOW))
    assert not {c["account_number"] for c, _ in more} & set(accounts)


def test_account_numbers_are_ten_keypad_digits_with_a_check_digit() -> None:
    number = account_number(42)
    assert number.isdigit()
    assert len(number) == 10
    assert account_number_valid(number)
    typo = number[:3] + str((int(number[3]) + 1) % 10) + number[4:]
    assert not account_number_valid(typo)
    swapped = number[:4] + number[5] + number[4] + number[6:]
    assert swapped == number or not account_number_valid(swapped)
    assert luhn_digit("7992739871") == "3"  # the textbook example


def test_tiers_are_mostly_residential(sample: Sample) -> None:
    tiers = Counter(c["tier"] for c, _ in sample)
    assert set(tiers) == {"A", "B", "C"}
    assert 0.85 < tiers["C"] / 5000 < 0.95
    assert 0.05 < tiers["B"] / 5000 < 0.13
    assert 0.002 < tiers["A"] / 5000 < 0.02


def test_names_are_chinese_with_about_ten_percent_english(sample: Sample) -> None:
    residential = [c for c, _ in sample if c["tier"] == "C"]
    english = [c for c in residential if LATIN.match(str(c["name"]))]
    chinese = [c for c in residential if HAN.match(str(c["name"]))]
    assert len(english) + len(chinese) == len(residential)
    assert 0.07 < len(english) / len(residential) < 0.13
    assert all(2 <= len(str(c["name"])) <= 4 for c in chinese)
    assert sum(c["language"] == "en" for c in english) > 0.7 * len(english)
    assert sum(c["language"] == "zh" for c in chinese) > 0.95 * len(chinese)
    businesses = [c for c, _ in sample if c["tier"] != "C"]
    assert any("有限公司" in str(c["name"]) for c in businesses)


def test_addresses_are_in_the_city_districts_with_postcodes(sample: Sample) -> None:
    districts = {d.zh: d for d in DISTRICTS}
    seen = Counter(c["district"] for c, _ in sample)
    assert set(seen) == set(districts)
    for customer, _ in sample:
        district = districts[str(customer["district"])]
        assert str(customer["postcode"]).startswith(district.postcode)
        assert len(str(customer["postcode"])) == 6
        address = str(customer["address"])
        assert ("滨江市" + district.zh in address) or (district.en in address)
    assert sum("室" in str(c["address"]) for c, _ in sample) > 4000


def test_phones_are_mobile_or_landline_several_sometimes_shared_rarely(sample: Sample) -> None:
    counts = Counter(len(p) for _, p in sample)
    assert counts[1] > 2500
    assert counts[2] > 800
    assert counts[3] > 0
    owners: dict[str, set[object]] = {}
    for customer, phones in sample:
        assert [p["is_primary"] for p in phones] == [True] + [False] * (len(phones) - 1)
        assert len({p["number"] for p in phones}) == len(phones)
        for phone in phones:
            assert phone["customer_id"] == customer["id"]
            pattern = MOBILE if phone["kind"] == "mobile" else LANDLINE
            assert pattern.match(str(phone["number"])), phone
            owners.setdefault(str(phone["number"]), set()).add(customer["id"])
        if customer["tier"] != "C":
            assert phones[0]["kind"] == "landline"
    shared = [n for n, who in owners.items() if len(who) > 1]
    assert 5 < len(shared) < 150


def test_money_is_exact_two_decimals_and_arrears_are_some(sample: Sample) -> None:
    in_arrears = 0
    for customer, _ in sample:
        for key in ("balance", "arrears", "last_payment_amount"):
            value = customer[key]
            if value is None:
                continue
            assert isinstance(value, Decimal)
            assert value == value.quantize(Decimal("0.01"))
            assert value.as_tuple().exponent == -2
            assert value >= 0
        if customer["arrears"]:
            in_arrears += 1
            assert customer["balance"] == Decimal("0.00")
    assert 0.08 < in_arrears / 5000 < 0.2


def test_dates_are_aware_and_in_the_past(sample: Sample) -> None:
    for customer, phones in sample:
        created = customer["created_at"]
        assert isinstance(created, dt.datetime)
        assert created.tzinfo is not None
        assert created < NOW
        paid = customer["last_payment_on"]
        assert paid is None or (isinstance(paid, dt.date) and paid < NOW.date())
        assert all(p["created_at"] == NOW for p in phones)
        assert re.match(r"^[GI]\d{11}$", str(customer["meter_number"]))


def test_given_a_naive_now_then_the_generator_refuses() -> None:
    with pytest.raises(ValueError, match="aware"):
        next(generate_customers(1, 1, 1, dt.datetime(2026, 1, 1)))
