"""Erlang C (M/M/N, callers wait forever) and Erlang A (M/M/N+M, callers abandon) for
staffing. Pure: no I/O.

Traffic `A` in Erlangs = arrivals per second × average handle time in seconds (AHT).
With N agents (N > A):
- P(wait) = C(N, A) = N·B / (N − A·(1 − B)), B = Erlang B(N, A) by the stable recursion
  B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1));
- service level (share of callers answered within T seconds)
  SL = 1 − C · exp(−(N − A) · T / AHT);
- average speed of answer ASA = C · AHT / (N − A);
- occupancy = A / N.
With N <= A the queue grows without bound: P(wait) = 1, SL = 0, ASA = infinity.

Erlang A (Palm's model, `erlang_a`): callers have exponential patience (mean
`patience_seconds`); solved as the birth-death chain over the number of callers in the
system, truncated far in the tail. It gives P(wait), P(abandon) and the ASA of the
callers who are answered; with a very long patience it tends to Erlang C.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Enough agents for any interval a center staffs; the search stops there.
MAX_AGENTS = 2000


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability of N servers offered A Erlangs (no queue)."""
    if agents < 0 or traffic < 0:
        raise ValueError("agents and traffic must not be negative")
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    return b


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a caller waits (all N agents busy)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1 - b))


def service_level(agents: int, traffic: float, aht_seconds: float, target_seconds: float) -> float:
    """Share of callers answered within `target_seconds` (Erlang C)."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    c = erlang_c(agents, traffic)
    return max(0.0, 1.0 - c * math.exp(-(agents - traffic) * target_seconds / aht_seconds))


def asa(agents: int, traffic: float, aht_seconds: float) -> float:
    """Average speed of answer in seconds (every caller, waiting or not)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(agents, traffic) * aht_seconds / (agents - traffic)


def traffic_erlangs(calls: float, interval_seconds: float, aht_seconds: float) -> float:
    return calls * aht_seconds / interval_seconds if interval_seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Staffing:
    agents: int
    service_level: float
    p_wait: float
    asa_seconds: float
    occupancy: float


def agents_for_service_level(
    traffic: float,
    aht_seconds: float,
    target_seconds: float,
    target_share: float,
    *,
    max_occupancy: float = 1.0,
) -> Staffing:
    """The fewest agents that answer `target_share` (0..1) of callers within
    `target_seconds` and keep occupancy (A/N) at most `max_occupancy`. No traffic: 0."""
    if not 0 < target_share < 1:
        raise ValueError("target_share must lie strictly between 0 and 1")
    if traffic <= 0 or aht_seconds <= 0:
        return Staffing(0, 1.0, 0.0, 0.0, 0.0)
    n = max(1, math.floor(traffic) + 1, math.ceil(traffic / max_occupancy))
    while n < MAX_AGENTS:
        sl = service_level(n, traffic, aht_seconds, target_seconds)
        if sl >= target_share:
            break
        n += 1
    return Staffing(
        agents=n,
        service_level=service_level(n, traffic, aht_seconds, target_seconds),
        p_wait=erlang_c(n, traffic),
        asa_seconds=asa(n, traffic, aht_seconds),
        occupancy=traffic / n,
    )


@dataclass(frozen=True, slots=True)
class ErlangA:
    p_wait: float  # an arriving caller finds every agent busy
    p_abandon: float  # share of callers who hang up before an answer
    asa_seconds: float  # mean wait of every caller (abandoning ones up to their hang-up)


def erlang_a(
    agents: int,
    arrivals_per_second: float,
    aht_seconds: float,
    patience_seconds: float,
    *,
    tail: float = 1e-12,
) -> ErlangA:
    """Palm's M/M/N+M: stationary law of the number in system; the chain is stable for
    any N because impatient callers leave."""
    if arrivals_per_second <= 0:
        return ErlangA(0.0, 0.0, 0.0)
    if agents < 0 or aht_seconds <= 0 or patience_seconds <= 0:
        raise ValueError("agents >= 0, aht and patience must be positive")
    lam, mu, theta = arrivals_per_second, 1.0 / aht_seconds, 1.0 / patience_seconds
    # Unnormalised probabilities, scaled as we go to stay within floating-point range.
    probs = [1.0]
    total, n = 1.0, 0
    while True:
        death = min(n + 1, agents) * mu + max(n + 1 - agents, 0) * theta
        nxt = probs[-1] * lam / death
        probs.append(nxt)
        total += nxt
        n += 1
        if n > agents and nxt / total < tail:
            break
        if total > 1e250:
            probs = [p / total for p in probs]
            total = 1.0
    pi = [p / total for p in probs]
    p_wait = sum(pi[agents:])
    queue = sum((k - agents) * p for k, p in enumerate(pi) if k > agents)
    # Little's law on the queue: mean wait = Lq / λ; abandonment rate = θ · Lq.
    return ErlangA(p_wait=p_wait, p_abandon=theta * queue / lam, asa_seconds=queue / lam)
