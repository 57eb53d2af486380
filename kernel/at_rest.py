"""Files encrypted at rest (PIPL): recordings and work-order attachments.

A sealed file is `MAGIC || key id (1 byte) || nonce (12) || AES-256-GCM(ciphertext+tag)`,
so a file on disk is never a readable WAV or JPEG, and a change to one byte fails the
tag rather than playing noise. The key comes from the environment
(`HOTLINE_AT_REST_KEY`: 32 bytes, base64 or 64 hex digits), never from config.yaml, so
a copy of the repository or of the disk alone does not open the files.

Files written before a key was set (or with no key: the demo without one) stay plain and
still open: `open_bytes` passes bytes without MAGIC through. One key id today; the byte
leaves room for rotation (old files keep their id).
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"HLSEAL1\x00"
KEY_ENV = "HOTLINE_AT_REST_KEY"
_KEY_ID = 1
_NONCE = 12


class SealError(Exception):
    """A sealed file that cannot be opened: wrong key, no key, or altered bytes."""


def parse_key(text: str) -> bytes:
    """32 key bytes from 64 hex digits or base64; ValueError with the reason otherwise."""
    text = text.strip()
    try:
        key = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise ValueError(f"{KEY_ENV}: not hex or base64") from exc
    if len(key) != 32:
        raise ValueError(f"{KEY_ENV}: must be 32 bytes (AES-256), got {len(key)}")
    return key


def new_key() -> str:
    """A fresh key, as the environment variable's value (hex)."""
    return secrets.token_hex(32)


@dataclass(frozen=True)
class AtRest:
    """Seals and opens file contents; `key` None = files are written plain."""

    key: bytes | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AtRest:
        value = (os.environ if env is None else env).get(KEY_ENV)
        return cls(parse_key(value) if value else None)

    @property
    def enabled(self) -> bool:
        return self.key is not None

    def seal(self, data: bytes) -> bytes:
        if self.key is None:
            return data
        nonce = secrets.token_bytes(_NONCE)
        header = MAGIC + bytes([_KEY_ID])
        return header + nonce + AESGCM(self.key).encrypt(nonce, data, header)

    def open_bytes(self, data: bytes) -> bytes:
        if not is_sealed(data):
            return data
        if self.key is None:
            raise SealError(f"the file is encrypted and {KEY_ENV} is not set")
        header = data[: len(MAGIC) + 1]
        nonce = data[len(header) : len(header) + _NONCE]
        try:
            return AESGCM(self.key).decrypt(nonce, data[len(header) + _NONCE :], header)
        except InvalidTag as exc:
            raise SealError("the file does not open with this key, or it was altered") from exc


def is_sealed(data: bytes) -> bool:
    return data.startswith(MAGIC)
