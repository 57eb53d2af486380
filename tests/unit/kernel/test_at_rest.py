"""Files sealed at rest (kernel/at_rest.py): AES-256-GCM with the key from the
environment; plain files pass through; a wrong key or an altered byte never opens."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel.at_rest import KEY_ENV, MAGIC, AtRest, SealError, is_sealed, new_key, parse_key

KEY = bytes(range(32))
WAV = b"RIFF" + bytes(40) + b"data" + bytes(100)


def test_given_a_key_when_sealed_then_not_the_plain_bytes_and_it_opens_again() -> None:
    at_rest = AtRest(KEY)
    sealed = at_rest.seal(WAV)
    assert sealed.startswith(MAGIC)
    assert not sealed.startswith(b"RIFF")
    assert WAV not in sealed
    assert is_sealed(sealed)
    assert at_rest.open_bytes(sealed) == WAV


def test_given_the_same_data_twice_then_two_different_files() -> None:
    at_rest = AtRest(KEY)
    assert at_rest.seal(WAV) != at_rest.seal(WAV)  # a fresh nonce each time


def test_given_no_key_then_files_stay_plain_and_plain_files_open() -> None:
    plain = AtRest()
    assert not plain.enabled
    assert plain.seal(WAV) == WAV
    assert plain.open_bytes(WAV) == WAV
    assert AtRest(KEY).open_bytes(WAV) == WAV  # written before the key was set


def test_given_a_sealed_file_and_no_key_then_it_says_the_key_is_missing() -> None:
    sealed = AtRest(KEY).seal(WAV)
    with pytest.raises(SealError, match=KEY_ENV):
        AtRest().open_bytes(sealed)


def test_given_a_wrong_key_or_an_altered_byte_then_it_never_opens() -> None:
    sealed = AtRest(KEY).seal(WAV)
    with pytest.raises(SealError):
        AtRest(bytes(32)).open_bytes(sealed)
    for i in (len(MAGIC), len(MAGIC) + 5, len(sealed) - 1):  # key id, nonce, tag
        altered = bytearray(sealed)
        altered[i] ^= 1
        with pytest.raises(SealError):
            AtRest(KEY).open_bytes(bytes(altered))


def test_given_the_environment_then_hex_or_base64_keys_are_read() -> None:
    assert AtRest.from_env({KEY_ENV: KEY.hex()}).key == KEY
    assert AtRest.from_env({KEY_ENV: base64.b64encode(KEY).decode()}).key == KEY
    assert AtRest.from_env({}).key is None
    assert len(parse_key(new_key())) == 32


@pytest.mark.parametrize("value", ["not a key", "00" * 16, base64.b64encode(b"short").decode()])
def test_given_a_bad_key_then_the_error_names_the_variable(value: str) -> None:
    with pytest.raises(ValueError, match=KEY_ENV):
        AtRest.from_env({KEY_ENV: value})


@given(st.binary(max_size=4096), st.binary(min_size=32, max_size=32))
def test_any_bytes_round_trip_with_any_key(data: bytes, key: bytes) -> None:
    at_rest = AtRest(key)
    sealed = at_rest.seal(data)
    assert is_sealed(sealed)
    assert at_rest.open_bytes(sealed) == data
    assert len(sealed) == len(MAGIC) + 1 + 12 + len(data) + 16
