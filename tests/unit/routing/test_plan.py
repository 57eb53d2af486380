"""The routing plan compiled from the repository's config.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.config import load_settings
from routing.core.plan import QueueSpec, RoutingPlan

ROOT = Path(__file__).resolve().parents[3]


def test_config_yaml_compiles_to_a_plan() -> None:
    plan = RoutingPlan.from_settings(load_settings(ROOT / "config.yaml", env={}))
    billing = plan.queue("billing")
    assert [s.starts_after for s in billing.steps] == [0, 20, 60]
    assert billing.overflow_after is None  # the last step waits (max_wait then fallback)
    assert billing.first_match({"billing": 8}) == (0, 8)
    assert billing.first_match({"billing": 4, "general": 9}) == (1, 4)
    assert billing.first_match({"general": 9}) == (2, 9)
    assert billing.first_match({"repair": 9}) is None
    assert plan.priority("billing", tier="A") == 30
    assert plan.priority("billing", tier="C", given=25) == 25  # the IVR may say more
    assert plan.priority("billing") == 10  # unknown customer: the lowest tier
    assert plan.priority("emergency", tier="C") == 1000  # emergencies above all
    assert "no_answer" in plan.not_ready_reasons


def test_step_boundaries_are_inclusive() -> None:
    plan = RoutingPlan([QueueSpec("q", "q", [("q >= 5", 10), ("q", 5)])])
    q = plan.queue("q")
    assert [q.step_at(t) for t in (0, 9.999, 10, 14.999, 15)] == [0, 0, 1, 1, 2]


def test_only_the_last_step_may_wait_forever() -> None:
    with pytest.raises(ValueError, match="only the last step"):
        RoutingPlan([QueueSpec("q", "q", [("q", None), ("any", 5)])])
