"""A small progress bar on stderr (redrawn in place on a terminal, every 10% otherwise)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total, 0)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._last_decile = -1

    def update(self, n: int) -> None:
        self.done = min(self.total, self.done + n)
        now = time.monotonic()
        if self.tty:
            if now - self._last_draw >= 0.1 or self.done == self.total:
                self._last_draw = now
                self.stream.write("\r" + self.line())
                self.stream.flush()
        else:
            decile = 10 * self.done // self.total if self.total else 10
            if decile != self._last_decile:
                self._last_decile = decile
                self.stream.write(self.line() + "\n")
                self.stream.flush()

    def line(self, width: int = 30) -> str:
        fraction = self.done / self.total if self.total else 1.0
        filled = int(fraction * width)
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return (
            f"{self.label:<10} {fraction:4.0%} |{'█' * filled}{'░' * (width - filled)}| "
            f"{self.done:,}/{self.total:,} {self.done / elapsed:,.0f}/s"
        )

    def close(self) -> float:
        """Finish the line; returns the elapsed seconds."""
        if self.tty:
            self.stream.write("\r" + self.line() + "\n")
            self.stream.flush()
        return time.monotonic() - self.started
