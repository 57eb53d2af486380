"""privacy.ivr_pin: a customer with a PIN enters it before hearing the balance; wrong
ivr_pin_attempts times, an agent without the balance; no PIN or setting off: unchanged."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ivr.script import Answer, Money, Prompt, Query, QueryKind
from kernel.config import load_settings
from kernel.config.settings import Settings
from kernel.pins import hash_pin, valid_pin, verify_pin
from tests.ivr_scenarios import ZHANG, ZHANG_PHONE
from tests.unit.ivr.test_ivr_interpreter import FakeDirectory, walk

PIN_HASH = hash_pin("4321")


@pytest.fixture(scope="module")
def base() -> Settings:
    return load_settings("config.yaml", env={})


def with_pin(settings: Settings, on: bool = True) -> Settings:
    privacy = settings.privacy.model_copy(update={"ivr_pin": on, "ivr_pin_attempts": 3})
    return settings.model_copy(update={"privacy": privacy})


class PinDirectory(FakeDirectory):
    def answer(self, q: Query) -> Answer:
        found = super().answer(q)
        if q.kind is QueryKind.CUSTOMER_BY_PHONE and found == ZHANG:
            return replace(ZHANG, pin_hash=PIN_HASH)
        return found


def heard_balance(said: list[object]) -> bool:
    return any(isinstance(i, Money) for i in said)


def test_pin_hashing() -> None:
    assert verify_pin("4321", PIN_HASH)
    assert not verify_pin("4322", PIN_HASH)
    assert not verify_pin("4321", "garbage")
    assert "4321" not in PIN_HASH
    assert valid_pin("1234")
    assert valid_pin("123456")
    assert not valid_pin("123")
    assert not valid_pin("1234567")
    assert not valid_pin("12a4")


def test_right_pin_hears_the_balance(base: Settings) -> None:
    run = walk(with_pin(base), ZHANG_PHONE, ("1", "4321", ""), PinDirectory())
    assert run.asks[1].items == (Prompt("pin_enter"),)
    assert heard_balance(run.said)
    r = run.result
    assert r is not None
    assert r.outcome == "self_service"
    assert "pin_ok" in r.path
    assert r.fact("pin") == "ok"
    assert r.fact("heard") == "balance"
    assert "4321" not in repr(r.facts) + repr(r.path)


def test_right_pin_on_second_try(base: Settings) -> None:
    run = walk(with_pin(base), ZHANG_PHONE, ("1", "1111", "4321", ""), PinDirectory())
    assert run.asks[2].items == (Prompt("pin_wrong"), Prompt("pin_enter"))
    assert heard_balance(run.said)


def test_three_wrong_pins_go_to_an_agent_without_the_balance(base: Settings) -> None:
    run = walk(with_pin(base), ZHANG_PHONE, ("1", "1111", "2222", ""), PinDirectory())
    r = run.result
    assert r is not None
    assert r.outcome == "queue"
    assert r.action == "queue"
    assert r.skill == base.ivr.operator_skill
    assert not heard_balance(run.said)
    assert r.path[-2:] == ("pin_failed", "operator")
    assert r.fact("pin") == "failed"
    assert r.fact("heard") is None
    assert r.fact("balance") is None
    assert "1111" not in repr(r.facts) + repr(r.path)


def test_customer_without_pin_unchanged(base: Settings) -> None:
    on = walk(with_pin(base), ZHANG_PHONE, ("1", ""), FakeDirectory())
    off = walk(base, ZHANG_PHONE, ("1", ""), FakeDirectory())
    assert on.result == off.result
    assert on.said == off.said
    assert on.result is not None
    assert on.result.fact("heard") == "balance"


def test_setting_off_unchanged(base: Settings) -> None:
    assert base.privacy.ivr_pin is False
    with_hash = walk(base, ZHANG_PHONE, ("1", ""), PinDirectory())
    plain = walk(base, ZHANG_PHONE, ("1", ""), FakeDirectory())
    assert with_hash.result == plain.result
    assert heard_balance(with_hash.said)
