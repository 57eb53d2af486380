"""Keeps the wait estimates fresh: for the API, for the offer payload, and for callers.

Contract with extensions.conf [hotline-queue]: the global variable
HOTLINE_EWT_<queue> = "<minutes>,<epoch>" (minutes empty when nobody serves the queue);
a caller entering hold-<queue> hears "the estimated wait is about <minutes> minutes" in
their own language (Hotline's rendered hold_* prompts, ivr/prompts.py) when the value is
at least 1 and not older than 120 s. Set with AMI Setvar without a
Channel (a global), only when the minutes change or the value is about to go stale.
"""

from __future__ import annotations

import asyncio
import logging

from cti.commands import PbxError
from routing.context import RoutingContext
from routing.core.ewt import QueueEstimate, estimate_all
from routing.pbx.dispatcher import Dispatcher

log = logging.getLogger("routing")

REFRESH_SECONDS = 5.0
REPUBLISH_SECONDS = 60.0  # the dialplan ignores values older than 120 s


class WaitAnnouncer:
    def __init__(self, ctx: RoutingContext, dispatcher: Dispatcher) -> None:
        self.ctx = ctx
        self.dispatcher = dispatcher
        self.latest: dict[str, QueueEstimate] = {}
        self._published: dict[str, tuple[int | None, float]] = {}

    async def run(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(REFRESH_SECONDS)

    async def refresh(self) -> None:
        self.latest = estimate_all(self.ctx.router)
        for queue, est in self.latest.items():
            self.dispatcher.estimates[queue] = est.new_caller_seconds
        if self.ctx.settings.routing.announce_wait:
            await self._publish()

    async def _publish(self) -> None:
        now = self.ctx.clock.timestamp()
        for queue, est in self.latest.items():
            minutes = est.new_caller_minutes
            last = self._published.get(queue)
            if last is not None and last[0] == minutes and now - last[1] < REPUBLISH_SECONDS:
                continue
            value = f"{'' if minutes is None else minutes},{int(now)}"
            try:
                await self.ctx.pbx.set_var("", f"HOTLINE_EWT_{queue}", value)
            except PbxError as exc:
                log.debug("wait estimate for %s not published: %s", queue, exc)
                return
            self._published[queue] = (minutes, now)
