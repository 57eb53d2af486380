"""QA's weekly sampling as a duty of the leading process (hotline/wiring.py DUTIES,
hotline/cluster.py): once an ISO week has ended (the center's time zone), it draws that
week's samples, so an inspector finds last week's queue drawn without pressing "draw".

Why only an ended week: a draw while the week runs would take each agent's first N calls
of Monday and Tuesday, not N random calls of the week (the button still draws a running
week on purpose). It checks every few minutes, so a process that was down on Monday
draws when it is back.

The draw is idempotent (qa/README.md): a second draw only tops up, and a call is sampled
once. A round that would add nothing writes nothing (no `qa.sample_draw` audit row every
few minutes). The drawer is the system (`drawn_by_id` empty, audit actor "qa-schedule").
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from hotline.services import Services
from kernel.audit import Actor
from kernel.lifecycle import cancel_and_wait, run_when_due
from qa import store
from qa.sampling import draw, week_bounds, week_of
from qa.service import QaService

log = logging.getLogger(__name__)
CHECK_SECONDS = 300.0  # every five minutes
RETRY_SECONDS = 300.0
ACTOR = Actor.system("qa-schedule")


class WeeklySampling:
    """A component: draws last week's QA samples once that week has ended."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._qa = QaService(services)
        self.rounds = 0  # rounds run (tests, metrics)
        self.drawn = 0  # samples this process drew
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(
            run_when_due(
                self.round,
                clock=self._services.clock,
                stopping=self._stopping,
                wake=self._wake,
                max_sleep=CHECK_SECONDS,
                retry_seconds=RETRY_SECONDS,
                what="QA weekly sampling",
                fence=self._services.fence,
            ),
            name="qa-weekly-sampling",
        )

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            await cancel_and_wait([self._task], what="QA weekly sampling")
            self._task = None

    def poke(self) -> None:
        """Run a round now (tests; a changed setting)."""
        self._wake.set()

    def weeks(self, now: dt.datetime) -> list[str]:
        """The last ended ISO week (the center's time zone)."""
        return [week_of(now - dt.timedelta(days=7), self._services.settings.center.timezone)]

    async def round(self) -> dt.datetime:
        now = self._services.clock.now()
        for week in self.weeks(now):
            if await self._would_draw(week):
                out = await self._qa.draw_samples(ACTOR, week, None)
                self.drawn += int(out["drawn"])
                log.info("QA samples of %s topped up: %d drawn", week, out["drawn"])
        self.rounds += 1
        return now + dt.timedelta(seconds=CHECK_SECONDS)

    async def _would_draw(self, week: str) -> bool:
        start, end = week_bounds(week, self._services.settings.center.timezone)
        n = self._services.settings.qa.samples_per_agent_week
        async with self._services.engine.connect() as s:
            candidates = await store.candidates(s, start, end)
            already = await store.sampled(s, week)
        return bool(draw(candidates, already, per_agent=n, week=week))
