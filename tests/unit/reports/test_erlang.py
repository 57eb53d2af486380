"""reports/erlang.py against published Erlang C values and an independent reference.

Published table: the worked example of Call Centre Helper, "Erlang C Formula - Made
Simple With an Easy Worked Example" (callcentrehelper.com): 100 calls in 30 minutes,
AHT 180 s, so A = 10 Erlangs; target 80 % answered in 20 s. For N = 11..14 agents it
gives P(wait) 68.21 %, 44.94 %, 28.53 %, 17.41 %, service level 39.0 %, 64.0 %, 79.6 %,
88.8 % and ASA 122.8 s, 40.4 s, 17.1 s, 7.8 s: 14 agents meet the target. The same
P(wait) values appear in Erlang C tables for A = 10 (N = 15: 10.20 %). Each is also
checked here against a reference written independently of the module: the textbook sum
    C(N, A) = (A^N/N! · N/(N−A)) / (Σ_{k<N} A^k/k! + A^N/N! · N/(N−A))
in exact rational arithmetic, and the Erlang B recursion B(k) = A·B(k−1)/(k + A·B(k−1)).
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.erlang import (
    agents_for_service_level,
    asa,
    erlang_a,
    erlang_b,
    erlang_c,
    service_level,
    traffic_erlangs,
)

# (agents, P(wait), service level within 20 s, ASA seconds) for A = 10, AHT = 180 s.
PUBLISHED = [
    (11, 0.6821, 0.390, 122.8),
    (12, 0.4494, 0.640, 40.4),
    (13, 0.2853, 0.796, 17.1),
    (14, 0.1741, 0.888, 7.8),
]


def reference_erlang_c(agents: int, traffic: Fraction) -> Fraction:
    """The textbook formula, exactly (no recursion, no floating point)."""
    top = traffic**agents / math.factorial(agents) * Fraction(agents) / (agents - traffic)
    below = sum((traffic**k / math.factorial(k) for k in range(agents)), Fraction(0))
    return top / (below + top)


def reference_erlang_b(agents: int, traffic: float) -> float:
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    return b


@pytest.mark.parametrize(("agents", "p_wait", "sl", "asa_seconds"), PUBLISHED)
def test_erlang_c_matches_the_published_table(
    agents: int, p_wait: float, sl: float, asa_seconds: float
) -> None:
    traffic = traffic_erlangs(100, 1800, 180)
    assert traffic == 10
    assert erlang_c(agents, traffic) == pytest.approx(p_wait, abs=5e-5)
    assert float(reference_erlang_c(agents, Fraction(10))) == pytest.approx(p_wait, abs=5e-5)
    # SL = 1 − C · exp(−(N − A) · T / AHT)
    want_sl = 1 - erlang_c(agents, traffic) * math.exp(-(agents - traffic) * 20 / 180)
    assert service_level(agents, traffic, 180, 20) == pytest.approx(want_sl, rel=1e-12)
    assert service_level(agents, traffic, 180, 20) == pytest.approx(sl, abs=5e-4)
    assert asa(agents, traffic, 180) == pytest.approx(asa_seconds, abs=0.05)


def test_fifteen_agents_for_ten_erlangs() -> None:
    assert erlang_c(15, 10.0) == pytest.approx(0.1020, abs=5e-5)


def test_agents_needed_for_eighty_in_twenty() -> None:
    s = agents_for_service_level(10.0, 180, 20, 0.80)
    assert s.agents == 14  # 13 give 79.6 %
    assert s.service_level == pytest.approx(0.888, abs=5e-4)
    assert s.occupancy == pytest.approx(10 / 14)
    assert agents_for_service_level(10.0, 180, 20, 0.79).agents == 13
    # An occupancy cap can only add agents.
    assert agents_for_service_level(10.0, 180, 20, 0.5, max_occupancy=0.7).agents == 15


def test_no_traffic_needs_no_agent_and_overload_never_waits_less() -> None:
    assert agents_for_service_level(0.0, 180, 20, 0.8).agents == 0
    assert erlang_c(10, 10.0) == 1.0
    assert service_level(9, 10.0, 180, 20) == 0.0
    assert asa(10, 10.0, 180) == math.inf
    with pytest.raises(ValueError, match="target_share"):
        agents_for_service_level(5.0, 180, 20, 1.0)


@given(
    agents=st.integers(min_value=1, max_value=60),
    traffic=st.fractions(min_value=Fraction(1, 10), max_value=59).map(
        lambda f: f.limit_denominator(100)
    ),
)
def test_erlang_c_equals_the_exact_formula(agents: int, traffic: Fraction) -> None:
    if traffic >= agents:
        assert erlang_c(agents, float(traffic)) == 1.0
        return
    want = float(reference_erlang_c(agents, traffic))
    assert erlang_c(agents, float(traffic)) == pytest.approx(want, rel=1e-9, abs=1e-15)
    assert erlang_b(agents, float(traffic)) == pytest.approx(
        reference_erlang_b(agents, float(traffic)), rel=1e-12
    )


@given(
    traffic=st.floats(min_value=0.05, max_value=200),
    target=st.floats(min_value=0.5, max_value=0.99),
)
def test_the_agents_found_are_the_fewest_that_meet_the_target(
    traffic: float, target: float
) -> None:
    s = agents_for_service_level(traffic, 240, 20, target)
    assert service_level(s.agents, traffic, 240, 20) >= target
    fewer = s.agents - 1
    assert fewer <= traffic or service_level(fewer, traffic, 240, 20) < target


def test_erlang_a_tends_to_erlang_c_and_abandons_with_short_patience() -> None:
    arrivals = 100 / 1800  # A = 10 with AHT 180
    patient = erlang_a(12, arrivals, 180, 1e8)
    assert patient.p_wait == pytest.approx(erlang_c(12, 10.0), abs=1e-4)
    assert patient.asa_seconds == pytest.approx(asa(12, 10.0, 180), rel=1e-3)
    impatient = erlang_a(12, arrivals, 180, 60)
    assert 0 < impatient.p_abandon < 0.2
    assert impatient.p_wait < patient.p_wait  # callers who leave shorten the line
    # Under-staffed, Erlang A stays finite where Erlang C diverges.
    over = erlang_a(8, arrivals, 180, 120)
    assert 0 < over.p_abandon < 1
    assert math.isfinite(over.asa_seconds)
