"""Demo customers of a Chinese city utility, as plain rows (pure: numbers in, rows out).

`generate_customers(seed, first_id, count, now)` yields (customer row, phone rows) with
explicit ids, ready for bulk Core inserts into `customers` and `customer_phones`. The
same arguments always give the same rows.

Account numbers are ten digits (keyable on a phone pad for the IVR): nine digits
derived from the customer id plus a Luhn check digit, so a mistyped number is caught
before any lookup (`account_number_valid`).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from devtools.seed import names, places

ACCOUNT_BASE = 210_000_000
_MOBILE_PREFIXES = [*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, 166]
_MOBILE_PREFIXES += [170, 171, 173, 175, 176, 177, 178, *range(180, 190), 191, 198, 199]
MOBILE_PREFIXES = tuple(str(p) for p in _MOBILE_PREFIXES)

Row = dict[str, Any]


def luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def account_number(customer_id: int) -> str:
    body = f"{ACCOUNT_BASE + customer_id:09d}"
    return body + luhn_digit(body)


def account_number_valid(number: str) -> bool:
    return len(number) == 10 and number.isdigit() and luhn_digit(number[:-1]) == number[-1]


def _cents(rng: random.Random, low: int, high: int) -> Decimal:
    """An exact amount between low and high yuan."""
    return Decimal(rng.randint(low * 100, high * 100)).scaleb(-2)


def mobile_number(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def landline_number(rng: random.Random) -> str:
    return places.AREA_CODE + str(rng.randint(2, 8)) + f"{rng.randrange(10**7):07d}"


class _Generator:
    def __init__(self, seed: int, now: dt.datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        self.rng = random.Random(seed)
        self.now = now
        self.today = now.date()
        self.previous_mobile: str | None = None

    # --- names -------------------------------------------------------------------
    def chinese_name(self) -> str:
        rng = self.rng
        if rng.random() < 0.01:
            surname = rng.choice(names.COMPOUND_SURNAMES)
        else:
            # Triangular over the list: common surnames come up far more often.
            surname = names.SURNAMES[int(rng.triangular(0, len(names.SURNAMES), 0))]
        size = 1 if rng.random() < 0.3 else 2
        return surname + "".join(rng.choice(names.GIVEN_CHARS) for _ in range(size))

    def english_name(self) -> str:
        return f"{self.rng.choice(names.ENGLISH_FIRST)} {self.rng.choice(names.ENGLISH_LAST)}"

    def business_name(self, tier: str, english: bool) -> str:
        rng = self.rng
        if english:
            return rng.choice(names.ENGLISH_BUSINESSES)
        if tier == "A" and rng.random() < 0.3:
            return rng.choice(names.INSTITUTIONS_A)
        trades = names.BUSINESS_TRADES_A if tier == "A" else names.BUSINESS_TRADES_B
        if tier == "B" and rng.random() < 0.4:
            return places.CITY_ZH[:2] + rng.choice(names.BUSINESS_PREFIXES) + rng.choice(trades)
        return (
            places.CITY_ZH
            + rng.choice(names.BUSINESS_PREFIXES)
            + rng.choice(trades)
            + rng.choice(names.BUSINESS_FORMS)
        )

    # --- addresses ---------------------------------------------------------------
    def address(self, residential: bool, english: bool) -> tuple[str, str, str]:
        """(address, district name, postcode)."""
        rng = self.rng
        district = rng.choices(places.DISTRICTS, weights=places.DISTRICT_WEIGHTS)[0]
        road_zh, road_en = rng.choice(places.ROADS)
        number = rng.randint(1, 888)
        postcode = district.postcode + str(rng.randint(0, 9))
        if not residential:
            if english:
                addr = f"No. {number} {road_en}, {district.en}, {places.CITY_EN}"
            else:
                addr = f"{places.CITY_ZH}{district.zh}{road_zh}{number}号"
            return addr, district.zh, postcode
        community_zh, community_en = rng.choice(places.COMMUNITIES)
        building, unit = rng.randint(1, 30), rng.randint(1, 4)
        room = rng.randint(1, 33) * 100 + rng.randint(1, 4)
        if english:
            addr = (
                f"Room {room}, Unit {unit}, Building {building}, {community_en}, "
                f"{number} {road_en}, {district.en}, {places.CITY_EN}"
            )
        else:
            addr = (
                f"{places.CITY_ZH}{district.zh}{road_zh}{number}号"
                f"{community_zh}{building}栋{unit}单元{room}室"
            )
        return addr, district.zh, postcode

    # --- phones ------------------------------------------------------------------
    def phones(self, customer_id: int, residential: bool) -> list[Row]:
        rng = self.rng
        numbers: list[tuple[str, str]] = []
        # About 1% of households share a mobile with the previous account (family).
        if residential and self.previous_mobile and rng.random() < 0.01:
            numbers.append((self.previous_mobile, "mobile"))
        else:
            numbers.append((mobile_number(rng), "mobile"))
        if not residential:
            numbers.insert(0, (landline_number(rng), "landline"))
        extra = rng.random()
        if extra < 0.25:
            numbers.append((mobile_number(rng), "mobile"))
        elif extra < 0.35:
            numbers.append((landline_number(rng), "landline"))
        first_mobile = next((n for n, kind in numbers if kind == "mobile"), None)
        self.previous_mobile = first_mobile
        rows: list[Row] = []
        seen: set[str] = set()
        for number, kind in numbers:
            if number in seen:
                continue
            seen.add(number)
            rows.append(
                {
                    "customer_id": customer_id,
                    "number": number,
                    "kind": kind,
                    "is_primary": not rows,
                    "label": None,
                    "created_at": self.now,
                }
            )
        return rows

    # --- one customer ------------------------------------------------------------
    def customer(self, customer_id: int) -> tuple[Row, list[Row]]:
        rng = self.rng
        roll = rng.random()
        tier = "A" if roll < 0.01 else "B" if roll < 0.10 else "C"
        residential = tier == "C"
        english = rng.random() < 0.10
        if residential:
            name = self.english_name() if english else self.chinese_name()
        else:
            name = self.business_name(tier, english)
        address, district, postcode = self.address(residential, english)
        language = ("en" if rng.random() < 0.85 else "zh") if english else "zh"
        if rng.random() < 0.015:
            language = "en" if language == "zh" else "zh"

        scale = {"A": 100, "B": 10, "C": 1}[tier]
        balance = _cents(rng, 0, 300 * scale) if rng.random() < 0.7 else Decimal("0.00")
        in_arrears = rng.random() < {"A": 0.2, "B": 0.15, "C": 0.12}[tier]
        arrears = _cents(rng, 10, 800 * scale) if in_arrears else Decimal("0.00")
        if arrears:
            balance = Decimal("0.00")
        paid_days_ago = rng.randint(1, 60) if not in_arrears else rng.randint(45, 400)
        has_paid = rng.random() < 0.97
        created = self.now - dt.timedelta(
            days=rng.randint(paid_days_ago, 3650), seconds=rng.randint(0, 86399)
        )
        row: Row = {
            "id": customer_id,
            "name": name,
            "account_number": account_number(customer_id),
            "address": address,
            "district": district,
            "postcode": postcode,
            "tier": tier,
            "balance": balance,
            "arrears": arrears,
            "last_payment_on": self.today - dt.timedelta(days=paid_days_ago) if has_paid else None,
            "last_payment_amount": _cents(rng, 20, 600 * scale) if has_paid else None,
            "meter_number": ("G" if residential else "I") + f"{rng.randrange(10**11):011d}",
            "language": language,
            "notes": None,
            "created_at": created,
            "updated_at": self.now,
        }
        return row, self.phones(customer_id, residential)


def generate_customers(
    seed: int, first_id: int, count: int, now: dt.datetime
) -> Iterator[tuple[Row, list[Row]]]:
    """`count` customers with ids first_id.. and their phones, deterministic in all args."""
    gen = _Generator(seed * 1_000_003 + first_id, now)
    for customer_id in range(first_id, first_id + count):
        yield gen.customer(customer_id)
