"""The retention rule (recordings.retention.select_expired), pure."""

from __future__ import annotations

import datetime as dt

from recordings.retention import RecordingInfo, select_expired

NOW = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def rec(
    n: int, age_days: float | None, *, hold: bool = False, deleted: bool = False
) -> RecordingInfo:
    ended = None if age_days is None else NOW - age_days * DAY
    return RecordingInfo(n, f"2026/01/01/c{n}.wav", ended, hold, NOW - DAY if deleted else None)


def test_only_expired_unheld_undeleted_finished_recordings_are_selected() -> None:
    recordings = [
        rec(1, 181),  # expired
        rec(2, 180.01),  # just past 180 days: expired
        rec(3, 179.99),  # not yet
        rec(4, 400, hold=True),  # legal hold wins
        rec(5, 400, deleted=True),  # already deleted
        rec(6, None),  # still recording (no end)
        rec(7, 365),
    ]
    assert [r.id for r in select_expired(recordings, NOW, 180)] == [1, 2, 7]


def test_exactly_at_the_cutoff_is_kept() -> None:
    assert select_expired([rec(1, 180)], NOW, 180) == []
    assert [r.id for r in select_expired([rec(1, 2)], NOW, 1)] == [1]
