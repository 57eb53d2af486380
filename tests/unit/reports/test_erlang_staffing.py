"""One forecast interval staffed (reports/staffing.staff_interval) and the staffing
section of config.yaml (defaults valid without it, bad values refused)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from kernel.config import load_settings
from kernel.config.backoffice import StaffingSettings
from reports.erlang import erlang_a
from reports.forecast import SlotForecast
from reports.staffing import staff_interval

ROOT = Path(__file__).resolve().parents[3]
START = dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)
# 100 calls in a half hour, AHT 180 s: the published example's 10 Erlangs.
PEAK = SlotForecast(dt.date(2026, 3, 9), 18, 100.0, 180.0, "weekday")


def staff(**kw: Any) -> Any:
    args: dict[str, Any] = {
        "interval_seconds": 1800.0,
        "target_seconds": 20.0,
        "target_share": 0.8,
        "shrinkage": 0.0,
        "max_occupancy": 1.0,
        "patience_seconds": None,
    }
    args.update(kw)
    return staff_interval(PEAK, START, **args)


def test_the_published_example_needs_fourteen_agents() -> None:
    row = staff()
    assert row.traffic_erlangs == pytest.approx(10.0)
    assert row.agents_needed == 14
    assert row.agents_scheduled == 14
    assert row.service_level == pytest.approx(0.888, abs=5e-4)
    assert row.asa_seconds == pytest.approx(7.8, abs=0.05)
    assert row.p_abandon is None


def test_shrinkage_schedules_more_and_patience_gives_erlang_a() -> None:
    row = staff(shrinkage=0.3, patience_seconds=90.0)
    assert row.agents_needed == 14
    assert row.agents_scheduled == 20  # 14 / 0.7
    assert row.p_abandon == pytest.approx(erlang_a(14, 100 / 1800, 180, 90).p_abandon)
    assert 0 < row.p_abandon < 0.05


def test_a_closed_interval_needs_nobody() -> None:
    closed = SlotForecast(dt.date(2026, 10, 1), 18, 0.0, 180.0, "holiday_closed")
    row = staff_interval(
        closed,
        START,
        interval_seconds=1800.0,
        target_seconds=20.0,
        target_share=0.8,
        shrinkage=0.3,
        max_occupancy=1.0,
        patience_seconds=60.0,
    )
    assert (row.agents_needed, row.agents_scheduled, row.basis) == (0, 0, "holiday_closed")


def test_config_without_a_staffing_section_uses_the_defaults(tmp_path: Path) -> None:
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config.pop("staffing", None)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    settings = load_settings(path, env={})
    assert settings.staffing == StaffingSettings()
    assert (settings.staffing.history_weeks, settings.staffing.interval_minutes) == (8, 30)
    assert settings.staffing.holidays == "closed"


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ({"interval_minutes": 45}, "interval_minutes"),
        ({"history_weeks": 0}, "history_weeks"),
        ({"holidays": "open"}, "holidays"),
        ({"shrinkage": 1.0}, "shrinkage"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_staffing_values_are_refused(section: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        StaffingSettings.model_validate(section)
