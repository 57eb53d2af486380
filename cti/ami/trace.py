"""Recorded AMI traffic: the exact TCP reads from a real Asterisk, replayable.

File format: for each read, a line with its byte length, then the bytes, then a
newline — so a replay hands the parser the same chunks (several events per read,
messages split across reads) as the live socket did.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


class TraceWriter:
    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.reads = 0

    def __call__(self, data: bytes) -> None:
        self._stream.write(b"%d\n" % len(data))
        self._stream.write(data)
        self._stream.write(b"\n")
        self.reads += 1


def read_trace(path: str | Path) -> list[bytes]:
    return list(iter_trace(Path(path).read_bytes()))


def iter_trace(blob: bytes) -> Iterator[bytes]:
    pos = 0
    while pos < len(blob):
        nl = blob.index(b"\n", pos)
        size = int(blob[pos:nl])
        start = nl + 1
        yield blob[start : start + size]
        pos = start + size + 1
