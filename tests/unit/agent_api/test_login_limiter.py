"""Sign-in throttling per (username, address): a sliding window of failures."""

from __future__ import annotations

from agent_api.ratelimit import MemoryLoginLimiter, limiter_key
from kernel.clock import FakeClock


async def test_given_failures_up_to_the_limit_when_one_more_then_blocked_until_window_moves() -> (
    None
):
    clock = FakeClock(1000)
    limiter = MemoryLoginLimiter(attempts=3, window=60, clock=clock)
    key = limiter_key("Agent01", "10.0.0.1")
    for _ in range(3):
        assert await limiter.retry_after(key) == 0
        await limiter.failed(key)
        clock.advance(10)
    # failures at 1000, 1010, 1020; now 1030: blocked until 1000 + 60
    assert await limiter.retry_after(key) == 30
    clock.advance(30)
    assert await limiter.retry_after(key) == 0


async def test_given_a_blocked_pair_then_another_user_or_address_is_not_blocked() -> None:
    clock = FakeClock(0)
    limiter = MemoryLoginLimiter(attempts=2, window=60, clock=clock)
    for _ in range(2):
        await limiter.failed(limiter_key("agent01", "10.0.0.1"))
    assert await limiter.retry_after(limiter_key("AGENT01 ", "10.0.0.1")) > 0  # same user
    assert await limiter.retry_after(limiter_key("agent02", "10.0.0.1")) == 0
    assert await limiter.retry_after(limiter_key("agent01", "10.0.0.2")) == 0


async def test_given_failures_when_a_sign_in_succeeds_then_the_count_restarts() -> None:
    clock = FakeClock(0)
    limiter = MemoryLoginLimiter(attempts=2, window=60, clock=clock)
    key = limiter_key("agent01", "::1")
    await limiter.failed(key)
    await limiter.succeeded(key)
    await limiter.failed(key)
    assert await limiter.retry_after(key) == 0
