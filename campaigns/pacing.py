"""Pacing, pure: how many campaign calls may be placed now.

Two bounds hold at every instant: the trunk's channels kept for campaigns (calls in
flight across every campaign never exceed campaigns.trunk_channels, nor a campaign's own
max_channels), and the rate of new dials (campaigns.calls_per_second, a token bucket
holding at most one second of dials, so a burst after a pause stays within the rate).
"""

from __future__ import annotations

from dataclasses import dataclass


def free_channels(trunk_channels: int, in_flight: int) -> int:
    return max(0, trunk_channels - in_flight)


def campaign_room(free: int, own_in_flight: int, max_channels: int | None) -> int:
    """Calls this campaign may add now, given the trunk's free channels."""
    if max_channels is None:
        return free
    return max(0, min(free, max_channels - own_in_flight))


@dataclass
class Pacer:
    """A token bucket over a clock's timestamps: `rate` dials a second, bursts of at
    most max(1, rate) dials."""

    rate: float
    tokens: float = 0.0
    at: float | None = None

    @property
    def burst(self) -> float:
        return max(1.0, self.rate)

    def _refill(self, now: float) -> None:
        if self.at is None:
            self.tokens, self.at = self.burst, now
            return
        if now > self.at:
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now

    def take(self, now: float) -> bool:
        """True (and one token spent) if a dial may go now."""
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def take_up_to(self, now: float, wanted: int) -> int:
        """As many dials as may go now, at most `wanted` (their tokens spent)."""
        self._refill(now)
        granted = max(0, min(wanted, int(self.tokens)))
        self.tokens -= granted
        return granted

    def give_back(self, dials: int) -> None:
        """Tokens of dials taken but not placed (a claim lost, the window closed)."""
        self.tokens = min(self.burst, self.tokens + max(0, dials))

    def next_at(self, now: float) -> float:
        """When the next dial may go."""
        self._refill(now)
        if self.tokens >= 1.0:
            return now
        return now + (1.0 - self.tokens) / self.rate
