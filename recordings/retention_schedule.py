"""The retention purge inside the backend: once a day at recording.purge_at (the
center's local time), once per cluster.

It is one of the leader's duties (hotline/cluster.py), and each day's slot is claimed in
the database first (kernel/fencing.py `claim_slot`): a standby that takes over later the
same day finds the slot taken and does not purge again; a day missed while no process
ran is purged at the next start. `next_slot` is the pure rule.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from zoneinfo import ZoneInfo

from hotline.services import Services
from kernel.fencing import Fence
from kernel.lifecycle import cancel_and_wait, run_when_due
from recordings.retention import RetentionJob

log = logging.getLogger(__name__)
FENCE = "retention"
RETRY_SECONDS = 300.0
MAX_SLEEP = 3600.0  # wake at least hourly (a clock change, a changed purge_at)


def last_slot(now: dt.datetime, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The most recent purge time at or before `now` (aware, UTC)."""
    local = now.astimezone(tz)
    slot = dt.datetime.combine(local.date(), at, tzinfo=tz)
    if slot > local:
        slot -= dt.timedelta(days=1)
    return slot.astimezone(dt.UTC)


def next_slot(now: dt.datetime, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The first purge time after `now` (aware, UTC)."""
    return (last_slot(now, at, tz).astimezone(tz) + dt.timedelta(days=1)).astimezone(dt.UTC)


class RetentionSchedule:
    """A component: runs the purge for each day's slot, once across the cluster."""

    def __init__(self, services: Services, fence: Fence) -> None:
        self._services = services
        self._fence = fence
        self._settings = services.settings.recording
        self._tz = ZoneInfo(services.settings.center.timezone)
        self.job = RetentionJob(services.sessions, self._settings, services.clock, fence)
        self.runs = 0  # purges this process ran (tests, metrics)
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
                max_sleep=MAX_SLEEP,
                retry_seconds=RETRY_SECONDS,
                what="retention purge",
            ),
            name="retention-schedule",
        )

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            await cancel_and_wait([self._task], what="retention schedule")
            self._task = None

    async def round(self) -> dt.datetime:
        now = self._services.clock.now()
        slot = last_slot(now, self._settings.purge_at, self._tz)
        if await self._fence.claim_slot(slot):
            report = await self.job.run()
            self.runs += 1
            log.info(
                "retention purge for %s: %d deleted, %d failed%s",
                slot.isoformat(),
                len(report.deleted),
                len(report.failed),
                " (stopped: no longer the leader)" if report.fenced else "",
            )
        return next_slot(now, self._settings.purge_at, self._tz)
