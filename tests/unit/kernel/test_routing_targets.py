from __future__ import annotations

import pytest

from kernel.config.targets import TargetSyntaxError, parse_target, skills_named


@pytest.mark.parametrize(
    ("expr", "skills", "expected"),
    [
        ("billing >= 7", {"billing": 7}, True),
        ("billing >= 7", {"billing": 6}, False),
        ("billing", {"billing": 1}, True),
        ("billing", {"general": 9}, False),
        ("billing >= 3 or general", {"general": 1}, True),
        ("repair >= 5 and english", {"repair": 5}, False),
        ("(repair > 5 or emergency) and english", {"emergency": 1, "english": 2}, True),
        ("any", {}, True),
        ("general == 5", {"general": 5}, True),
        ("general < 5", {"general": 5}, False),
    ],
)
def test_target_matches(expr: str, skills: dict[str, int], expected: bool) -> None:
    assert parse_target(expr)(skills) is expected


@pytest.mark.parametrize(
    "bad", ["", "billing >=", ">= 3", "billing >= x", "(billing", "billing ))", "a or"]
)
def test_bad_targets_are_refused(bad: str) -> None:
    with pytest.raises(TargetSyntaxError):
        parse_target(bad)


def test_skills_named() -> None:
    assert skills_named(parse_target("(a > 1 or b) and c")) == {"a", "b", "c"}
