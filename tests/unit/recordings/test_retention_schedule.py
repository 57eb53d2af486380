"""When the daily retention purge is due (recordings/retention_schedule.py): the center's
local time, a slot passed today or yesterday, and days that are 23 or 25 hours long."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from recordings.retention_schedule import last_slot, next_slot

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
AT = dt.time(3, 30)


def utc(y: int, mo: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=dt.UTC)


def test_given_a_time_after_todays_slot_then_todays_slot_is_the_last_and_tomorrows_next() -> None:
    now = utc(2026, 12, 3, 1)  # 09:00 in Shanghai
    assert last_slot(now, AT, SHANGHAI) == utc(2026, 12, 2, 19, 30)  # 03:30 on the 3rd
    assert next_slot(now, AT, SHANGHAI) == utc(2026, 12, 3, 19, 30)  # 03:30 on the 4th


def test_given_a_time_before_todays_slot_then_yesterdays_slot_is_the_last() -> None:
    now = utc(2026, 12, 2, 18)  # 02:00 on the 3rd in Shanghai
    assert last_slot(now, AT, SHANGHAI) == utc(2026, 12, 1, 19, 30)
    assert next_slot(now, AT, SHANGHAI) == utc(2026, 12, 2, 19, 30)


def test_given_the_slot_itself_then_it_is_the_last_one() -> None:
    now = utc(2026, 12, 2, 19, 30)
    assert last_slot(now, AT, SHANGHAI) == now


def test_given_a_clock_change_then_the_slot_stays_at_local_time() -> None:
    # Berlin moves to summer time on 2026-03-29 (02:00 -> 03:00): 03:30 is UTC+2 after.
    before = next_slot(utc(2026, 3, 28, 12), AT, BERLIN)
    assert before == utc(2026, 3, 29, 1, 30)
    assert next_slot(before, AT, BERLIN) == utc(2026, 3, 30, 1, 30)
    assert next_slot(utc(2026, 3, 27, 12), AT, BERLIN) == utc(2026, 3, 28, 2, 30)
