"""QA's weekly sampling as a leader duty (qa/schedule.py, hotline/wiring.py DUTIES), run
by the real Runtime on a controlled clock: a running week is not drawn (its first calls
are not a random sample of it); once it has ended, a round draws its samples without
anyone pressing "draw"; another round adds none (and writes no audit row). SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from db.models import Role
from hotline.runtime import Infrastructure, Runtime
from hotline.services import Services
from kernel.audit import AUDIT
from kernel.clock import FakeClock
from qa.schedule import WeeklySampling
from qa.store import SAMPLES
from tests.harness.http_app import add_user, api_services
from tests.integration.qa.support import recorded_call
from tests.support import eventually

pytestmark = pytest.mark.integration
WEDNESDAY = dt.datetime(2026, 12, 2, 6, 0, tzinfo=dt.UTC)  # 2026-W49, 14:00 in Shanghai
NEXT_MONDAY = dt.datetime(2026, 12, 6, 17, 0, tzinfo=dt.UTC)  # 2026-W50, Mon 01:00 Shanghai
WEEK, NEXT_WEEK = "2026-W49", "2026-W50"


@asynccontextmanager
async def duty_running(services: Services) -> AsyncIterator[WeeklySampling]:
    runtime = Runtime(
        services.settings,
        role="pbx",
        only={"qa_sampling"},
        migrate=False,
        infrastructure=Infrastructure(
            services.bus, services.engine, services.sessions, services.clock
        ),
    )
    await runtime.start()
    try:
        duties = runtime.duties
        assert duties is not None
        await eventually(lambda: duties.active, 10, "the only process leads")
        assert [name for name, _ in duties.running] == ["qa_sampling"]
        duty = duties.component("qa_sampling")
        assert isinstance(duty, WeeklySampling)
        yield duty
    finally:
        await runtime.stop()


async def samples(services: Services, week: str) -> list[tuple[int, int | None]]:
    async with services.engine.connect() as s:
        rows = await s.execute(
            sa.select(SAMPLES.c.call_id, SAMPLES.c.drawn_by_id).where(SAMPLES.c.week == week)
        )
        return [(r.call_id, r.drawn_by_id) for r in rows]


async def draw_rows(services: Services) -> list[tuple[str, str]]:
    async with services.engine.connect() as s:
        rows = await s.execute(
            sa.select(AUDIT.c.object_id, AUDIT.c.actor_name).where(
                AUDIT.c.action == "qa.sample_draw"
            )
        )
        return [(r.object_id, r.actor_name) for r in rows]


async def test_given_the_runtime_when_the_duty_runs_then_the_week_is_drawn_once(
    db_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(WEDNESDAY)
    env = {
        "HOTLINE_RECORDING__ROOT": str(tmp_path / "recordings"),
        "HOTLINE_QA__SAMPLES_PER_AGENT_WEEK": "3",
    }
    async with api_services(db_url, clock=clock, env=env) as services:
        agent = await add_user(services, "agent01", Role.AGENT, "1001")
        other = await add_user(services, "agent02", Role.AGENT, "1002")
        assert agent.id is not None
        assert other.id is not None
        monday = WEDNESDAY - dt.timedelta(days=1)
        for i in range(5):
            await recorded_call(services, f"1764000100.{i}", agent.id, started=monday)
        for i in range(2):
            await recorded_call(services, f"1764000200.{i}", other.id, started=monday)

        async with duty_running(services) as duty:
            await eventually(lambda: duty.rounds >= 1, 10, "the first round")
            assert await samples(services, WEEK) == []  # the week is still running
            assert await draw_rows(services) == []

            # Monday of the next week: the ended week is drawn.
            clock.set(NEXT_MONDAY)
            duty.poke()
            await eventually(lambda: duty.rounds >= 2, 10, "the round after the week")
            first = await samples(services, WEEK)
            assert len(first) == 5  # 3 of agent01's five, both of agent02's
            assert {by for _, by in first} == {None}  # drawn by the system, not a user
            assert await draw_rows(services) == [(WEEK, "qa-schedule")]

            # Another round (the next check) adds none and writes nothing.
            clock.advance(300)
            duty.poke()
            await eventually(lambda: duty.rounds >= 3, 10, "the third round")
            assert sorted(await samples(services, WEEK)) == sorted(first)
            assert await draw_rows(services) == [(WEEK, "qa-schedule")]
            assert await samples(services, NEXT_WEEK) == []
            assert duty.drawn == 5
