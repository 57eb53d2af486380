"""Weekly sampling: N random calls per agent, deterministic for a seed, topping up what
the week already has, never a call twice; ISO weeks in the center's time zone."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.sampling import Candidate, draw, week_bounds, week_of


def calls(agent: int, n: int, first: int = 1) -> list[Candidate]:
    return [
        Candidate(agent * 1000 + i, agent, 9000 + agent * 1000 + i) for i in range(first, n + 1)
    ]


def test_given_two_agents_then_n_calls_each_or_all_they_have() -> None:
    pool = calls(1, 10) + calls(2, 2)
    drawn = draw(pool, [], per_agent=3, week="2026-W49", seed="t")
    by_agent = {a: [c for c in drawn if c.agent_id == a] for a in (1, 2)}
    assert (len(by_agent[1]), len(by_agent[2])) == (3, 2)
    assert len({c.call_id for c in drawn}) == 5


def test_given_the_same_seed_then_the_same_calls_and_another_week_draws_others() -> None:
    pool = calls(1, 50)
    first = draw(pool, [], per_agent=5, week="2026-W49", seed="s")
    assert draw(list(reversed(pool)), [], per_agent=5, week="2026-W49", seed="s") == first
    assert draw(pool, [], per_agent=5, week="2026-W50", seed="s") != first


def test_given_calls_already_sampled_then_the_week_is_topped_up_only() -> None:
    pool = calls(1, 10)
    already = [pool[0]]
    drawn = draw(pool, already, per_agent=3, week="2026-W49")
    assert len(drawn) == 2
    assert pool[0] not in drawn
    assert draw(pool, already + drawn, per_agent=3, week="2026-W49") == []


@given(
    sizes=st.lists(st.integers(0, 12), min_size=1, max_size=5),
    per_agent=st.integers(1, 6),
    seed=st.text(max_size=5),
)
def test_given_any_pool_then_each_agent_gets_min_of_n_and_their_calls(
    sizes: list[int], per_agent: int, seed: str
) -> None:
    pool = [c for agent, n in enumerate(sizes, 1) for c in calls(agent, n)]
    drawn = draw(pool, [], per_agent=per_agent, week="2026-W01", seed=seed)
    for agent, n in enumerate(sizes, 1):
        assert sum(1 for c in drawn if c.agent_id == agent) == min(n, per_agent)
    assert set(drawn) <= set(pool)


def test_given_a_monday_morning_in_shanghai_then_it_is_that_week_not_the_last() -> None:
    # Monday 2026-12-07 00:30 in Shanghai is still Sunday 16:30 UTC.
    at = dt.datetime(2026, 12, 6, 16, 30, tzinfo=dt.UTC)
    assert week_of(at, "Asia/Shanghai") == "2026-W50"
    assert week_of(at, "UTC") == "2026-W49"
    start, end = week_bounds("2026-W50", "Asia/Shanghai")
    assert start == dt.datetime(2026, 12, 6, 16, 0, tzinfo=dt.UTC)
    assert end - start == dt.timedelta(days=7)


@pytest.mark.parametrize(
    ("week", "message"), [("2026-49", "not a week"), ("2026-W54", "no week 54")]
)
def test_given_a_bad_week_then_it_says_why(week: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        week_bounds(week, "Asia/Shanghai")
