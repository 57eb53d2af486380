"""Time as a port: pure cores take a Clock, tests pass a FakeClock they can advance."""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """Aware UTC wall-clock time."""
        ...

    def timestamp(self) -> float:
        """Epoch seconds (what AMI Timestamp headers and domain events use)."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def timestamp(self) -> float:
        return time.time()


class FakeClock:
    def __init__(self, start: dt.datetime | float = 1_763_800_000.0) -> None:
        self._t = start.timestamp() if isinstance(start, dt.datetime) else float(start)

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._t, dt.UTC)

    def timestamp(self) -> float:
        return self._t

    def advance(self, seconds: float) -> None:
        self._t += seconds

    def set(self, when: dt.datetime | float) -> None:
        self._t = when.timestamp() if isinstance(when, dt.datetime) else float(when)


def from_timestamp(value: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(value, dt.UTC)
