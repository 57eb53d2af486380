"""A text the gateway gave up on reaches the wallboard (supervisor/live_alerts.py): the
gateway's ALERT (integrations/sms_rules.failed_alert) becomes an "sms.failed" alert with
the number masked, addressed to supervisors and admins."""

from __future__ import annotations

from integrations.sms_rules import failed_alert
from supervisor.live_alerts import Alerts, addressed_to


def test_given_a_failed_text_then_the_wallboard_alert_masks_the_number_for_supervisors() -> None:
    event = failed_alert(
        sms_id=12,
        number="13800138000",
        reason="campaign",
        attempts=8,
        error="HTTP 503: 网关繁忙",
        at=1_800_000_000.0,
        campaign_id=3,
    )
    alerts = Alerts(wait_seconds=60, min_calls=10)
    alert = alerts.sms(event, now=1_800_000_100.0)
    assert alert is not None
    assert {k: alert[k] for k in ("kind", "at", "sms_id", "number", "attempts", "error")} == {
        "kind": "sms.failed",
        "at": 1_800_000_000.0,
        "sms_id": 12,
        "number": "138****8000",
        "attempts": 8,
        "error": "HTTP 503: 网关繁忙",
    }
    assert list(alerts.recent) == [alert]
    assert addressed_to(alert, "supervisor", 1)
    assert addressed_to(alert, "admin", 1)
    assert not addressed_to(alert, "agent", 1)


def test_given_other_alerts_then_the_sms_reader_ignores_them() -> None:
    alerts = Alerts(wait_seconds=60, min_calls=10)
    assert alerts.sms({"type": "sla.breach"}, now=0.0) is None
    assert alerts.sms({"type": "customer.read_volume"}, now=0.0) is None
    assert list(alerts.recent) == []
