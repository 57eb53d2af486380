"""The password policy (agent_api/password_policy.py): one clear problem per rule."""

from __future__ import annotations

import pytest

from agent_api.password_policy import describe, password_problems
from kernel.config.backoffice import AdminSettings

POLICY = AdminSettings()


@pytest.mark.parametrize(
    ("password", "old", "codes"),
    [
        ("Binjiang2027", None, []),
        ("滨江热线2027abc", None, []),  # Chinese characters count as letters
        ("short1a", None, ["too_short"]),
        ("0123456789", None, ["needs_letter"]),
        ("onlyletters", None, ["needs_digit"]),
        ("", None, ["too_short", "needs_letter", "needs_digit"]),
        ("Agent07-2027x", None, ["is_username"]),  # contains it, any case
        ("Binjiang2027", "Binjiang2027", ["same_as_old"]),
        ("Binjiang2028", "Binjiang2027", []),
    ],
)
def test_given_a_password_then_each_broken_rule_is_named(
    password: str, old: str | None, codes: list[str]
) -> None:
    found = password_problems(POLICY, password, username="agent07", old=old)
    assert [p.code for p in found] == codes


def test_given_a_configured_policy_then_its_length_and_classes_apply() -> None:
    relaxed = AdminSettings(
        password_min_length=6, password_needs_letter=False, password_needs_digit=False
    )
    assert password_problems(relaxed, "123456", username="x1") == []
    assert [p.code for p in password_problems(relaxed, "12345", username="x1")] == ["too_short"]


def test_given_problems_then_the_message_says_each_in_english_and_chinese() -> None:
    message = describe(password_problems(POLICY, "abc", username="agent07"))
    assert "at least 10 characters" in message
    assert "密码至少 10 个字符" in message
    assert "digit" in message


def test_given_defaults_then_a_config_without_the_admin_section_is_valid() -> None:
    assert AdminSettings().password_min_length == 10
