"""Personal numbers masked for display (PIPL): phones and ID numbers.

Pure functions; who may see a full number is the caller's decision (privacy settings
by role), and showing one is audited where it is shown. Masks keep what staff need to
recognise a number on the phone ("the one ending 5678") and nothing more.
"""

from __future__ import annotations

import re

_PHONE_IN_TEXT = re.compile(r"(?<!\d)(\+?\d[\d\- ]{6,}\d)(?!\d)")


def mask_phone(number: str | None) -> str | None:
    """13912345678 -> 139****5678; 02161234567 -> 021****4567; short numbers keep their
    last 2 digits only. None stays None."""
    if number is None:
        return None
    digits = [i for i, ch in enumerate(number) if ch.isdigit()]
    if len(digits) <= 4:
        return "*" * len(number)
    keep_head = 3 if len(digits) >= 10 else 0
    keep_tail = 4 if len(digits) >= 8 else 2
    hidden = set(digits[keep_head : len(digits) - keep_tail])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(number))


def mask_id_number(value: str | None) -> str | None:
    """A resident ID (18 characters) keeps its first 3 and last 4: 110***********1234."""
    if value is None:
        return None
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phones_in_text(text: str) -> str:
    """Every phone-like run of digits in free text (a log line, a note) masked."""
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(1)) or "", text)
