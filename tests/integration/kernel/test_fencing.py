"""Fencing tokens in the database (kernel/fencing.py), on SQLite and PostgreSQL: once a
newer term has acted, an older one cannot; a once-per-slot duty runs once per slot
whoever leads; a single process (no competitor) is never fenced off."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import async_session_factory
from kernel.clock import FakeClock
from kernel.fencing import Fence, Fenced

pytestmark = pytest.mark.integration
DAY = dt.datetime(2026, 12, 3, 19, 30, tzinfo=dt.UTC)


@dataclass
class Term:
    token: int
    node: str
    is_leader: bool = True
    fenced: bool = True


async def test_given_a_newer_term_has_acted_then_the_older_one_is_fenced_off(
    db_engine: AsyncEngine,
) -> None:
    sessions = async_session_factory(db_engine)
    clock = FakeClock()
    old, new = Term(3, "a"), Term(4, "b")
    old_fence, new_fence = (
        Fence(sessions, "duties", old, clock),
        Fence(sessions, "duties", new, clock),
    )
    assert await old_fence.holds()  # first to act: it creates the row
    assert await old_fence.holds()  # and may act again
    assert await new_fence.holds()  # the newer term acts
    assert not await old_fence.holds()  # the old one (paused, woken up) may not
    async with sessions() as session, session.begin():
        with pytest.raises(Fenced, match="term 3 is older than term 4"):
            await old_fence.check(session)
    assert await new_fence.holds()
    old.is_leader = False
    assert not await Fence(sessions, "duties", old, clock).holds()


async def test_given_a_slot_then_only_the_first_term_to_claim_it_runs_it(
    db_engine: AsyncEngine,
) -> None:
    sessions = async_session_factory(db_engine)
    clock = FakeClock()
    first, second = Term(1, "a"), Term(2, "b")
    assert await Fence(sessions, "retention", first, clock).claim_slot(DAY)
    # The standby takes over the same day: today's purge is done.
    assert not await Fence(sessions, "retention", second, clock).claim_slot(DAY)
    # The next day is the new leader's; the old term may claim nothing any more.
    tomorrow = DAY + dt.timedelta(days=1)
    assert not await Fence(sessions, "retention", first, clock).claim_slot(tomorrow)
    assert await Fence(sessions, "retention", second, clock).claim_slot(tomorrow)


async def test_given_one_process_then_it_is_never_fenced_off_and_slots_still_run_once(
    db_engine: AsyncEngine,
) -> None:
    sessions = async_session_factory(db_engine)
    clock = FakeClock()
    # A cluster ran before with high tokens; now one process with the in-process bus.
    assert await Fence(sessions, "retention", Term(57, "x"), clock).claim_slot(DAY)
    alone = Term(1, "local", fenced=False)
    fence = Fence(sessions, "retention", alone, clock)
    assert await fence.holds()
    assert not await fence.claim_slot(DAY)
    assert await fence.claim_slot(DAY + dt.timedelta(days=1))
