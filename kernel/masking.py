"""Personal numbers masked for display (PIPL): phones and ID numbers.

Pure functions; who may see a full number is the caller's decision (privacy settings
by role), and showing one is audited where it is shown. Masks keep what staff need to
recognise a number on the phone ("the one ending 5678") and nothing more.
"""

from __future__ import annotations

import re

# A phone in free text: 7 to 15 digits (optionally +), or a landline written with its
# area code (0571-88001234). Not a part of a longer token: a Linkedid (1733312345.12),
# a channel's sequence (PJSIP/1001-00000012), a ticket number (GD20261122-000123) or a
# date (2026-12-04) stays readable. Latin letters count as a token's part, Chinese
# characters do not ("来电13912345678" is masked).
_PHONE_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9_.\-+])(\+?\d{7,15}|0\d{2,3}-\d{7,8})(?![A-Za-z0-9_\-]|\.\d)"
)


def mask_phone(number: str | None) -> str | None:
    """13912345678 -> 139****5678; 02161234567 -> 021****4567; short numbers keep their
    last 2 digits only. None stays None."""
    if number is None:
        return None
    # A "*" counts as a digit already hidden: masking a masked number changes nothing.
    digits = [i for i, ch in enumerate(number) if ch.isdigit() or ch == "*"]
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
