"""Estimated waits against the waits that actually happen, in a simulated rush hour."""

from __future__ import annotations

import heapq
import random

from routing.core.ewt import estimate
from routing.core.model import Offer, RouterEvent
from routing.core.plan import QueueSpec
from tests.unit.routing.support import make_router, ready_agent


def simulate(seed: int, callers: int = 40) -> list[tuple[float, float]]:
    """(predicted, actual) wait per caller: 3 agents, talk 60-140 s, 20 s wrap-up,
    callers arriving faster than they are served for a while, then slower."""
    router, clock = make_router(
        [QueueSpec("general", "general", [("general", None)], wrap_up_seconds=20)]
    )
    rng = random.Random(seed)
    for agent_id in (1, 2, 3):
        ready_agent(router, agent_id, {"general": 5})
    start = clock.timestamp()
    events: list[tuple[float, int, str]] = []
    t = start
    for n in range(callers):
        t += rng.expovariate(1 / (25 if n < callers // 2 else 70))
        heapq.heappush(events, (t, 0, f"c{n}"))
    predicted: dict[str, float] = {}
    arrived: dict[str, float] = {}
    actual: dict[str, float] = {}

    def handle(out: list[RouterEvent]) -> None:
        for e in out:
            if isinstance(e, Offer):
                actual[e.call_id] = e.wait_seconds
                handle(router.answered(e.call_id))
                end = clock.timestamp() + rng.uniform(60, 140)
                heapq.heappush(events, (end, 1, e.call_id))

    while events or router.next_deadline() is not None:
        deadline = router.next_deadline()
        if deadline is not None and (not events or deadline <= events[0][0]):
            clock.set(deadline)
            handle(router.tick())
            continue
        when, kind, call_id = heapq.heappop(events)
        clock.set(when)
        if kind == 0:
            handle(router.tick())
            guess = estimate(router, "general").new_caller_seconds
            assert guess is not None
            predicted[call_id], arrived[call_id] = guess, when
            handle(router.enqueue(call_id, "general", priority=10))
        else:
            handle(router.call_ended(call_id))
    return [(predicted[c], actual[c]) for c in sorted(predicted, key=arrived.__getitem__)]


def test_predicted_waits_track_actual_waits() -> None:
    errors: list[float] = []
    waits: list[float] = []
    for seed in range(5):
        pairs = simulate(seed)[8:]  # after a few measured handle times
        errors += [abs(p - a) for p, a in pairs]
        waits += [a for _, a in pairs]
    mean_wait = sum(waits) / len(waits)
    mean_error = sum(errors) / len(errors)
    assert mean_wait > 60  # a real queue formed
    assert mean_error <= 0.3 * mean_wait, (mean_error, mean_wait)


def test_estimate_is_zero_with_a_free_agent_and_none_without_agents() -> None:
    router, _ = make_router([QueueSpec("general", "general", [("general", None)])])
    assert estimate(router, "general").new_caller_seconds is None
    ready_agent(router, 1, {"general": 5})
    result = estimate(router, "general")
    assert (result.new_caller_seconds, result.new_caller_minutes, result.agents) == (0.0, 0, 1)


def test_each_waiting_caller_gets_its_own_estimate_in_line_order() -> None:
    router, clock = make_router([QueueSpec("general", "general", [("general", None)])])
    ready_agent(router, 1, {"general": 5})
    router.enqueue("talking", "general", priority=10)
    router.answered("talking")
    for n in range(3):
        clock.advance(1)
        router.enqueue(f"w{n}", "general", priority=10)
    result = estimate(router, "general")
    handle = result.handle_seconds
    assert list(result.callers) == ["w0", "w1", "w2"]
    w = [result.callers[f"w{n}"] or 0.0 for n in range(3)]
    assert 0 < w[0] < w[1] < w[2]
    assert w[2] - w[1] == handle
