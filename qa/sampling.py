"""Which calls to inspect: N random calls per agent per week (config qa.samples_per_agent_week).

Pure: given the week's candidates (answered calls with a recording) and the calls already
sampled, draw up to N more per agent. Deterministic for a given seed (the week and the
agent are mixed in), so a test, or a second press of the button, draws the same calls.
Weeks are ISO weeks ("2026-W49") in the center's time zone.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, slots=True)
class Candidate:
    call_id: int
    agent_id: int
    recording_id: int


def week_of(at: dt.datetime, timezone: str) -> str:
    year, week, _ = at.astimezone(zoneinfo.ZoneInfo(timezone)).isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(week: str, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """[Monday 00:00, next Monday 00:00) of an ISO week, local time, as aware UTC."""
    match = WEEK.match(week)
    if match is None:
        raise ValueError(f"{week!r} is not a week: write it like 2026-W49")
    year, number = int(match.group(1)), int(match.group(2))
    try:
        monday = dt.date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ValueError(f"{week!r}: {year} has no week {number}") from None
    zone = zoneinfo.ZoneInfo(timezone)
    start = dt.datetime.combine(monday, dt.time(), zone)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def draw(
    candidates: Iterable[Candidate],
    already: Sequence[Candidate],
    *,
    per_agent: int,
    week: str,
    seed: str = "",
) -> list[Candidate]:
    """Up to `per_agent` calls per agent, counting those already sampled this week."""
    taken = {c.call_id for c in already}
    have: dict[int, int] = {}
    for c in already:
        have[c.agent_id] = have.get(c.agent_id, 0) + 1
    pool: dict[int, list[Candidate]] = {}
    for c in sorted(candidates, key=lambda c: c.call_id):
        if c.call_id not in taken:
            pool.setdefault(c.agent_id, []).append(c)
    drawn: list[Candidate] = []
    for agent_id in sorted(pool):
        wanted = max(0, per_agent - have.get(agent_id, 0))
        calls = pool[agent_id]
        rng = random.Random(f"{seed}|{week}|{agent_id}")
        drawn.extend(sorted(rng.sample(calls, min(wanted, len(calls))), key=lambda c: c.call_id))
    return drawn
