"""Phone numbers as stored in customer_phones.number and looked up by caller ID.

One normal form for every source (billing CSV, agents typing, Asterisk CallerID):
digits only, without the country code +86 / 0086 / 86, without a trunk's extra leading 0
before a mobile number; landlines keep their area code with its 0 (021xxxxxxxx).
Short service numbers (95777) and extensions stay as they are.
"""

from __future__ import annotations

import re

_NOT_DIGIT = re.compile(r"\D")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalize_phone(raw: str) -> str:
    digits = _NOT_DIGIT.sub("", raw)
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13 and digits[2] == "1":
        digits = digits[2:]  # 86 13800138000
    elif digits.startswith("86") and len(digits) in (12, 13) and raw.lstrip().startswith("+"):
        digits = digits[2:]  # +86 21 61234567 (landline without its 0)
        digits = "0" + digits if not digits.startswith("0") else digits
    if len(digits) == 12 and digits.startswith("01") and _MOBILE.match(digits[1:]):
        digits = digits[1:]  # trunk prefix 0 dialled before a mobile number
    return digits


def is_mobile(number: str) -> bool:
    return bool(_MOBILE.match(number))
