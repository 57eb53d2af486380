"""Who may hear a recording, and which bytes a Range request asks for. Pure.

Supervisors, QA and admins may play and download every recording; an agent only the
recordings of calls they answered, and only when recording.agents_play_own is true.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PRIVILEGED = frozenset({"supervisor", "qa", "admin"})
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True, slots=True)
class Viewer:
    id: int | None
    name: str
    role: str


def may_play(viewer: Viewer, recording_agent_id: int | None, agents_play_own: bool) -> bool:
    if viewer.role in PRIVILEGED:
        return True
    return (
        viewer.role == "agent"
        and agents_play_own
        and viewer.id is not None
        and viewer.id == recording_agent_id
    )


class RangeNotSatisfiable(ValueError):
    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__(f"range not satisfiable for {size} bytes")


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """One byte range of `size` bytes, or None for the whole file (no header, a
    malformed or multi-range header: a server may ignore those, RFC 9110 14.2).
    Raises RangeNotSatisfiable when the range lies outside the file."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    if start >= size:
        raise RangeNotSatisfiable(size)
    end = min(int(last), size - 1) if last else size - 1
    if end < start:
        return None
    return ByteRange(start, end)


def if_range_allows(if_range: str | None, etag: str) -> bool:
    """If-Range with another validator than the current ETag: send the whole file."""
    return not if_range or if_range.strip() == etag
