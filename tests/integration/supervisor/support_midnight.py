"""Tests of today's figures on the real clock, kept clear of the center's local midnight.

The live view counts the calls that started today (center time zone): a test whose calls
started minutes ago, run just after local midnight (16:00 UTC for Asia/Shanghai), saw
them as yesterday's and counted none, as a CI run once did. Such a test runs on a clock
moved back to ten minutes before midnight when midnight is that near."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

CONFIG = Path(__file__).resolve().parents[3] / "config.yaml"
MARGIN = 600.0  # seconds of the test's own run kept before midnight


def center_zone() -> ZoneInfo:
    return ZoneInfo(str(yaml.safe_load(CONFIG.read_text())["center"]["timezone"]))


def clear_of_midnight(now: float, since: float) -> float:
    """`now`, or ten minutes before the local midnight nearest to it when calls that
    started `since` seconds ago, or the next MARGIN seconds, would straddle that day's
    start."""
    local = dt.datetime.fromtimestamp(now, center_zone())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    after = (local - midnight).total_seconds()
    before = (midnight + dt.timedelta(days=1) - local).total_seconds()
    if after < since:
        return now - after - MARGIN
    if before < MARGIN:
        return now + before - MARGIN
    return now


class ShiftedClock:
    """The system clock moved by a fixed number of seconds (kernel/clock.py Clock)."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.timestamp(), dt.UTC)

    def timestamp(self) -> float:
        return time.time() + self.offset
