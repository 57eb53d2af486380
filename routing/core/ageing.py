"""Ageing: a waiting call's priority rises with its wait, so low tiers cannot starve. Pure.

Rule (config `routing.core.ageing`): after every `every_seconds` in line (counted from
`enqueued_at`, the place in line that requeues, overflow and callbacks keep) a call gains
`step` priority points, up to `max_priority`. A call given `max_priority` or more (an
emergency, a supervisor's raise) does not age, and ageing never lowers a priority.
`max_priority` stays strictly below `routing.emergency_priority` (checked when the
configuration is loaded), so an aged call never reaches, let alone overtakes, an
emergency.

The k-th rise happens exactly at `enqueued_at + k * every_seconds`; the routing core
schedules that instant in its deadline heap (routing/core/timers.py), so the line order never
depends on how often the core is asked something. `bumps_due` counts the rises up to an
instant with the very same arithmetic, so a call placed in line again later (after an
offer, a restart) gets exactly the rises a timer would have given it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AgeingRule:
    step: int
    every_seconds: float
    max_priority: int

    def __post_init__(self) -> None:
        if self.step <= 0 or self.every_seconds <= 0:
            raise ValueError("ageing needs step > 0 and every_seconds > 0")

    def instant(self, since: float, bumps: int) -> float:
        """When the `bumps`-th rise happens for a call in line since `since`."""
        return since + self.every_seconds * bumps

    def bumps_due(self, since: float, now: float) -> int:
        """How many rises happened by `now` (those whose instant is <= now)."""
        if now < since:
            return 0
        k = math.floor((now - since) / self.every_seconds)
        # Float rounding may put the estimate one off the instants `instant` computes.
        while self.instant(since, k + 1) <= now:
            k += 1
        while k > 0 and self.instant(since, k) > now:
            k -= 1
        return k

    def gain(self, priority: int, bumps: int) -> int:
        """Priority points `bumps` rises add to `priority` (0 at or above the cap)."""
        if priority >= self.max_priority:
            return 0
        return min(self.max_priority, priority + self.step * bumps) - priority

    def next_instant(self, priority: int, since: float, bumps: int) -> float | None:
        """When the next rise is due, or None once the call cannot rise any more."""
        if priority + self.gain(priority, bumps) >= self.max_priority:
            return None
        return self.instant(since, bumps + 1)
