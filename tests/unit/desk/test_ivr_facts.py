"""Self-service results as sentences for the pop card."""

from __future__ import annotations

from pathlib import Path

import pytest

from desk.push.facts import fact_text, ivr_summary, parse_facts
from kernel.config import load_settings

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("key", "value", "zh", "en"),
    [
        ("balance", "-312.40", "已收听余额：欠费 ¥312.40", "heard balance: ¥312.40 overdue"),
        ("balance", "58.1", "已收听余额：¥58.10", "heard balance: ¥58.10 credit"),
        ("fault", "gas_leak", "报告燃气泄漏", "reported a gas leak"),
        ("report", "water_hammer", "报告water_hammer", "reported water hammer"),
        ("notices", "2", "已收听 2 条停气/停水通知", "heard 2 service notice(s)"),
        ("mood", "好", "mood：好", "mood: 好"),
        ("balance", "n/a", "balance：n/a", "balance: n/a"),
    ],
)
def test_fact_sentences(key: str, value: str, zh: str, en: str) -> None:
    assert fact_text(key, value) == {"zh": zh, "en": en}


def test_given_messy_facts_when_parsed_then_pairs_in_order() -> None:
    assert parse_facts("balance=-1.00; fault=gas_leak;;junk;=x") == [
        ("balance", "-1.00"),
        ("fault", "gas_leak"),
    ]
    assert parse_facts(None) == []


def test_given_a_path_through_the_menu_when_summarized_then_steps_are_labelled() -> None:
    settings = load_settings(ROOT / "config.yaml", env={})
    summary = ivr_summary(
        settings,
        {
            "ivr_path": ["main", "to_emergency"],
            "ivr_outcome": "queue",
            "ivr_facts": "fault=gas_leak",
        },
    )
    assert [s["label"]["en"] for s in summary["steps"]] == ["main menu", "chose: Gas emergency"]
    assert summary["steps"][1]["label"]["zh"] == "选择：燃气抢险"
    assert summary["facts"][0]["text"]["en"] == "reported a gas leak"
    assert summary["outcome_label"]["en"] == "asked for an agent"
