"""Which configuration changes a reload applies and which wait for a restart
(hotline/reload.py): connections and listening ports cannot move under a running
process; menus, queues, hours and labels can."""

from __future__ import annotations

from hotline.reload import needs_restart
from kernel.config import load_settings
from tests.unit.kernel.test_config import ROOT


def test_given_menu_queue_and_hours_changes_then_nothing_waits_for_a_restart() -> None:
    old = load_settings(ROOT / "config.yaml", env={})
    new = load_settings(
        ROOT / "config.yaml",
        env={
            "HOTLINE_ROUTING__OFFER_TIMEOUT_SECONDS": "25",
            "HOTLINE_BUSINESS_HOURS__HOLIDAYS": "[2026-12-24]",
            "HOTLINE_RECORDING__RETENTION_DAYS": "90",
        },
    )
    assert needs_restart(old, new) == []


def test_given_connection_changes_then_they_are_named_as_waiting_for_a_restart() -> None:
    old = load_settings(ROOT / "config.yaml", env={})
    new = load_settings(
        ROOT / "config.yaml",
        env={
            "HOTLINE_DATABASE__URL": "postgresql://db.example/hotline",
            "HOTLINE_HTTP__PORT": "9090",
            "HOTLINE_PBX__AMI__PORT": "5039",
        },
    )
    assert needs_restart(old, new) == ["database", "http.port", "pbx.ami"]
