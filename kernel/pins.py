"""Customer PINs for account self-service in the IVR (settings.privacy.ivr_pin). In the
kernel because the IVR checks them and privacy/ sets them, and privacy may not import
ivr (ivr -> tickets -> privacy would be a cycle).

A 4-6 digit PIN is stored as a salted PBKDF2-SHA256 hash (customers.pin_hash); the
digits are never stored or logged. Few iterations on purpose: with at most 10^6 PINs no
stretching makes an offline guess hard (what protects a PIN is the attempts limit and
the database), while the check runs inside the IVR's event loop, where 100,000
iterations (~50 ms) stalled every other caller's menu for that long; 5,000 take ~3 ms.
A stored hash carries its iteration count, so older hashes still verify.

    stored = hash_pin("1234")
    verify_pin("1234", stored)  # True
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

ITERATIONS = 5_000
PIN_RE = re.compile(r"^[0-9]{4,6}$")


def valid_pin(pin: str) -> bool:
    return bool(PIN_RE.fullmatch(pin))


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, ITERATIONS)
    return f"pbkdf2_sha256${ITERATIONS}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        got = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)
