"""AMI wire format, bytes in, frames out. Pure and synchronous.

Asterisk sends UTF-8 text; a message ends with an empty line (CRLF CRLF). Bytes are
buffered and each *complete message* is decoded on its own, so a multi-byte character
(a Chinese caller name) split across two TCP reads survives — panoramisk 1.4 decodes
each read with errors='ignore' and silently loses it. Bytes that are not valid UTF-8
become U+FFFD in that one frame; nothing else is affected.

A frame is a plain dict (header -> value). Repeated headers (ChanVariable, Output)
are joined with "\\n" — AMI values never contain newlines — see `multi()`.
"""

from __future__ import annotations

from collections.abc import Iterable

Frame = dict[str, str]

MAX_FRAME_BYTES = 256 * 1024  # larger messages are garbage or an attack: dropped
_END = b"\r\n\r\n"


class FrameParser:
    """Incremental parser; one per connection.

    `wanted_events`, if given, lets the parser skip building dicts for events nobody
    consumes (VarSet/Newexten floods): it looks at the first line only. Responses are
    always parsed.
    """

    __slots__ = ("_buf", "_greeting", "_scan_from", "garbage", "version", "wanted_events")

    def __init__(self, wanted_events: Iterable[str] | None = None) -> None:
        self._buf = bytearray()
        self._scan_from = 0
        self._greeting = True
        self.version: str | None = None
        self.garbage = 0
        self.wanted_events: frozenset[bytes] | None = (
            None if wanted_events is None else frozenset(e.encode() for e in wanted_events)
        )

    def feed(self, data: bytes) -> list[Frame]:
        buf = self._buf
        buf += data
        if self._greeting:
            nl = buf.find(b"\r\n")
            if nl < 0:
                if len(buf) > 1024:  # not an AMI server: stop waiting for a greeting
                    self._greeting = False
                return []
            line = bytes(buf[:nl])
            if line.startswith(b"Asterisk Call Manager/"):
                self.version = line.partition(b"/")[2].decode("ascii", "replace").strip()
                del buf[: nl + 2]
            self._greeting = False
        frames: list[Frame] = []
        start = 0
        wanted = self.wanted_events
        while True:
            end = buf.find(_END, max(start, self._scan_from))
            if end < 0:
                break
            if end - start > MAX_FRAME_BYTES:
                self.garbage += 1
            else:
                frame = self._parse(bytes(buf[start:end]), wanted)
                if frame is not None:
                    frames.append(frame)
            start = end + 4
            self._scan_from = start
        if start:
            del buf[:start]
            self._scan_from = 0
        pending = len(buf)
        if pending > MAX_FRAME_BYTES:
            # An unterminated giant value: drop what we have and resynchronise at the
            # next message boundary instead of growing without limit.
            self.garbage += 1
            cut = buf.rfind(b"\r\n")
            del buf[: cut + 2 if cut >= 0 else pending]
        else:
            self._scan_from = max(0, pending - 3)
        return frames

    def _parse(self, raw: bytes, wanted: frozenset[bytes] | None) -> Frame | None:
        raw = raw.lstrip(b"\r\n")
        if not raw:
            return None
        if wanted is not None and raw.startswith(b"Event: "):
            nl = raw.find(b"\r\n")
            name = raw[7:nl] if nl >= 0 else raw[7:]
            # Events answering an action (list items) carry an ActionID: always kept.
            if name not in wanted and b"ActionID: " not in raw:
                return None
        return parse_message(raw.decode("utf-8", "replace"), self)


def parse_message(text: str, stats: FrameParser | None = None) -> Frame | None:
    frame: Frame = {}
    for line in text.split("\r\n"):
        key, sep, value = line.partition(": ")
        if not sep:
            key, sep, value = line.partition(":")
            if not sep or not key:
                continue  # not a header line; AMI has no bodies any more
        if key in frame:
            frame[key] = f"{frame[key]}\n{value}"
        else:
            frame[key] = value
    if "Event" not in frame and "Response" not in frame:
        if stats is not None:
            stats.garbage += 1
        return None
    return frame


def multi(frame: Frame, key: str) -> list[str]:
    """All values of a header that may repeat (ChanVariable, Output, ...)."""
    value = frame.get(key)
    return [] if value is None else value.split("\n")


def chan_variables(frame: Frame) -> dict[str, str]:
    """ChanVariable: NAME=value headers as a dict (one or many: panoramisk's getdict
    fails when there is exactly one)."""
    out: dict[str, str] = {}
    for item in multi(frame, "ChanVariable"):
        name, _, value = item.partition("=")
        out[name] = value
    return out


def encode_action(headers: dict[str, str | list[str]]) -> bytes:
    """Serialise an action. CR/LF inside a value would inject headers: refused."""
    lines: list[str] = []
    for key, value in headers.items():
        for v in value if isinstance(value, list) else [value]:
            v = str(v)
            if "\r" in v or "\n" in v or "\r" in key or "\n" in key:
                raise ValueError(f"AMI header {key!r} contains a line break")
            lines.append(f"{key}: {v}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
