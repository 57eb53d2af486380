"""Access rule and HTTP byte ranges for the browser player (pure)."""

from __future__ import annotations

import pytest

from recordings.access import (
    ByteRange,
    RangeNotSatisfiable,
    Viewer,
    if_range_allows,
    may_play,
    parse_range,
)


def test_supervisors_qa_admins_play_everything_agents_only_their_own_when_allowed() -> None:
    for role in ("supervisor", "qa", "admin"):
        assert may_play(Viewer(9, "x", role), 3, False)
    assert not may_play(Viewer(3, "agent03", "agent"), 3, False)
    assert may_play(Viewer(3, "agent03", "agent"), 3, True)
    assert not may_play(Viewer(4, "agent04", "agent"), 3, True)
    assert not may_play(Viewer(None, "agent", "agent"), None, True)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=100-", ByteRange(100, 999)),
        ("bytes=-100", ByteRange(900, 999)),
        ("bytes=-5000", ByteRange(0, 999)),
        ("bytes=990-5000", ByteRange(990, 999)),
        ("bytes=5-1", None),  # invalid: ignored, whole file
        ("bytes=0-1,5-9", None),  # multi-range: whole file
        ("items=0-1", None),
    ],
)
def test_parse_range(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 1000) == expected


def test_unsatisfiable_ranges() -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=1000-", 1000)
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=-0", 1000)
    assert ByteRange(10, 19).content_range(1000) == "bytes 10-19/1000"
    assert ByteRange(10, 19).length == 10


def test_if_range_only_with_the_current_etag() -> None:
    assert if_range_allows(None, '"abc"')
    assert if_range_allows('"abc"', '"abc"')
    assert not if_range_allows('"old"', '"abc"')
