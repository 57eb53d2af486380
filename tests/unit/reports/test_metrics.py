"""Every metric definition of reports/metrics.py on hand-made call sets."""

from __future__ import annotations

import datetime as dt

import pytest

from reports.metrics import (
    Aggregates,
    CallFacts,
    Thresholds,
    call_aggregates,
    derive,
    fold,
    state_aggregates,
    survey_aggregates,
    ticket_aggregates,
)

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
TH = Thresholds(short_abandon_seconds=5, service_seconds=(("emergency", 10.0),))


def call(
    disposition: str = "answered",
    *,
    wait: float = 8,
    queue: str | None = "billing",
    queued: bool = True,
    talk: float = 100,
    hold: float = 0,
    wrap: float = 0,
    transfers: int = 0,
    fcr: bool | None = None,
) -> CallFacts:
    return CallFacts(
        started_at=T0,
        queue=queue,
        queued=queued,
        answered=disposition == "answered",
        disposition=disposition,
        wait_seconds=wait,
        talk_seconds=talk if disposition == "answered" else 0,
        hold_seconds=hold,
        wrap_seconds=wrap,
        transfers=transfers,
        first_contact_resolution=fcr,
    )


def metrics_of(*calls: CallFacts, thresholds: Thresholds = TH) -> dict[str, int | float | None]:
    return derive(fold(call_aggregates(c, thresholds) for c in calls)).as_dict()


def test_given_no_calls_then_rates_are_unknown_not_zero() -> None:
    m = metrics_of()
    assert m["offered"] == 0
    for name in ("service_level", "service_level_offered", "asa_seconds", "aht_seconds"):
        assert m[name] is None


def test_offered_counts_calls_that_entered_a_queue_only() -> None:
    m = metrics_of(call(), call("self_service", queued=False), call("abandoned_ivr", queued=False))
    assert (m["offered"], m["answered"], m["abandoned"]) == (1, 1, 0)


def test_short_abandons_are_apart_from_abandons_and_rates() -> None:
    calls = [call(), call("abandoned_queue", wait=4.9), call("abandoned_queue", wait=5.0)]
    m = metrics_of(*calls)
    assert (m["offered"], m["abandoned"], m["short_abandoned"]) == (3, 1, 1)
    assert m["abandon_rate"] == 0.5  # 1 ÷ (3 − 1)


def test_service_level_both_definitions() -> None:
    # 20 s threshold for billing: 2 of 3 answered in time; one (long) abandon.
    calls = [
        call(wait=3),
        call(wait=20),  # exactly at the threshold counts as in time
        call(wait=20.5),
        call("abandoned_queue", wait=60),
        call("abandoned_queue", wait=1),  # short: in neither denominator
    ]
    m = metrics_of(*calls)
    assert m["service_level"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["service_level_offered"] == 0.5


def test_service_level_threshold_is_per_queue() -> None:
    m = metrics_of(call(queue="emergency", wait=12), call(queue="billing", wait=12))
    assert m["service_level"] == 0.5


def test_asa_and_aht_average_over_answered_calls() -> None:
    calls = [
        call(wait=10, talk=100, hold=20, wrap=30),
        call(wait=30, talk=200, hold=0, wrap=10),
        call("abandoned_queue", wait=90),
    ]
    m = metrics_of(*calls)
    assert m["asa_seconds"] == 20.0
    assert m["aht_seconds"] == 180.0  # (150 + 210) ÷ 2


def test_callbacks_overflows_and_transfers() -> None:
    calls = [
        call("callback_requested", wait=40),
        call("overflowed", wait=120),
        call(transfers=2),
        call(transfers=1),
    ]
    m = metrics_of(*calls)
    assert (m["callbacks"], m["overflowed"], m["transfers"]) == (1, 1, 3)
    assert (m["offered"], m["answered"], m["abandoned"]) == (4, 2, 0)


def test_first_contact_resolution_over_known_answered_calls() -> None:
    m = metrics_of(call(fcr=True), call(fcr=True), call(fcr=False), call(fcr=None))
    assert m["first_contact_resolution"] == pytest.approx(2 / 3, abs=1e-4)


def test_occupancy_is_busy_over_logged_in_time() -> None:
    a = fold(
        [
            state_aggregates("on_call", 1800),
            state_aggregates("wrap_up", 600),
            state_aggregates("available", 1200),
            state_aggregates("not_ready", 0),
            state_aggregates("reserved", 0),
            state_aggregates("logged_out", 5000),
        ]
    )
    assert derive(a).occupancy == pytest.approx(2400 / 3600, abs=1e-4)


def test_surveys_and_ticket_sla() -> None:
    a = fold([survey_aggregates(5), survey_aggregates(4), survey_aggregates(2)])
    a = a + survey_aggregates(None)
    a = a + fold(
        [
            ticket_aggregates(True, True),
            ticket_aggregates(True, False),
            ticket_aggregates(False, None),
        ]
    )
    m = derive(a)
    assert (m.surveys, m.survey_average, m.survey_satisfied) == (3, 3.67, 0.6667)
    assert (m.tickets, m.sla_response_met, m.sla_response_breached) == (3, 2, 1)
    assert (m.sla_resolution_met, m.sla_resolution_breached, m.sla_resolution_rate) == (
        1,
        1,
        0.5,
    )


def test_aggregates_merge_is_fieldwise_addition() -> None:
    a = Aggregates(offered=2, talk_seconds=1.5)
    b = Aggregates(offered=3, talk_seconds=2.0, busy_seconds=4)
    assert (a + b).as_dict() == {
        **Aggregates().as_dict(),
        "offered": 5,
        "talk_seconds": 3.5,
        "busy_seconds": 4,
    }
