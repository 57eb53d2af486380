"""One home for the bus's topics (kernel/topics.py): no product module publishes to, or
subscribes to, a topic written as a bare string, so a reader finds every topic, its
publishers and its listeners from one module, and a typo cannot open a silent topic."""

from __future__ import annotations

import ast
from pathlib import Path

from kernel import topics

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = [
    "kernel",
    "agent_api",
    "desk",
    "hotline",
    "cti",
    "ivr",
    "routing",
    "recordings",
    "tickets",
    "knowledge",
    "followups",
    "integrations",
    "customers",
    "supervisor",
    "reports",
    "ops",
    "db",
    "campaigns",
    "qa",
    "admin",
    "privacy",
]


def _bare_topics() -> list[str]:
    found = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("publish", "subscribe")
                    and any(
                        isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args
                    )
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_given_the_product_then_every_topic_comes_from_kernel_topics() -> None:
    assert _bare_topics() == []


def test_given_the_topics_then_they_are_distinct() -> None:
    assert len(set(topics.ALL)) == len(topics.ALL)
    assert topics.AGENT_COMMAND not in topics.ALL  # point to point, not for the live view
