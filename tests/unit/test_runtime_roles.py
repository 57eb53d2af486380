"""What each role of `hotline serve` runs (hotline/runtime.py COMPONENTS), in start order:
a component missing from this list is not wired, whatever its tests say."""

from __future__ import annotations

import pytest

from hotline.runtime import COMPONENTS, Runtime
from hotline.wiring import DUTIES
from kernel.config import load_settings
from tests.unit.kernel.test_config import ROOT


def names(role: str) -> list[str]:
    return [name for name, roles, _ in COMPONENTS if role in roles]


def test_given_each_role_then_its_components_in_start_order() -> None:
    assert names("api") == ["live", "http"]
    # ops_http: /healthz, /readyz, /metrics of a pbx process, when ops.port is set.
    assert names("pbx") == ["ivr", "duties", "ops_http"]
    # The live view starts before the duties (it must hear the bridge's first resync).
    assert names("all") == ["live", "ivr", "duties", "http"]


def test_given_the_duties_then_only_the_leader_runs_them_in_this_order() -> None:
    # The call log hears the bridge's first events; the router offers through the
    # bridge; agents' commands reach the router; the care duties dial through the bridge.
    assert [name for name, _ in DUTIES] == [
        "call_log",
        "bridge",
        "routing",
        "agent_commands",
        "supervisor_actions",
        "tickets",
        "recordings",
        "recording_control",
        "call_control",
        "retention",
        "qa_sampling",
        "campaigns",
        "campaign_agents",
        "sms",
    ]


def test_given_an_unknown_component_then_the_runtime_refuses_it() -> None:
    settings = load_settings(ROOT / "config.yaml", env={})
    with pytest.raises(ValueError, match="unknown components"):
        Runtime(settings, only={"routing", "telepathy"})
