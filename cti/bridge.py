"""The CTI bridge: AMI link -> call tracker -> domain events on the bus.

Exactly one bridge per Asterisk may run (see cti/leader.py), or every call would be
logged twice. On every (re)login the tracker is reconciled with Asterisk's own view
(resync) before any later event is handled: the AMI client runs the login hook in its
single event consumer, so the snapshot and the live events cannot interleave.

Each login begins a new session of event numbers (cti/sequence.py), so calls that span
a reconnect, a restart or a failover keep numbering upwards. Calls the bridge did not see
end are then recovered from the call log and Asterisk's CEL store (cti/cel/recovery.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from cti.ami.client import AmiClient
from cti.ami.errors import AmiError
from cti.ami.frames import Frame
from cti.cel.recovery import (
    CallHistory,
    RecoveryReport,
    RecoverySettings,
    advance_cursor,
    recover,
)
from cti.cel.store import CelStore
from cti.commands import AmiPbxCommands, PbxError
from cti.tracking.resync import IVR_VARIABLES, parse_ivr_variables, resync
from cti.tracking.tracker import CallTracker
from kernel import topics
from kernel.bus.port import EventBus
from kernel.config.pbx import DEFAULT_NODE, AmiSettings, DialplanContract
from kernel.measures import Histogram

log = logging.getLogger(__name__)

_PBX_EVENTS = {"DeviceStateChange", "QueueCallerLeave"}
_GETVAR_AT_ONCE = 16  # Getvar actions in flight during a resync


class CtiBridge:
    def __init__(
        self,
        ami: AmiSettings,
        dialplan: DialplanContract,
        bus: EventBus,
        *,
        secret: str,
        clock: Callable[[], float] = time.time,
        history: CallHistory | None = None,
        cel: CelStore | None = None,
        recovery_timeout: float = 30.0,
        cursor_every: float = 300.0,
        node: str = DEFAULT_NODE,
    ) -> None:
        self.bus = bus
        # Every event this bridge publishes says which Asterisk it comes from
        # (`pbx_node`): the call log keys calls by it, the router knows where a caller is.
        self.node = node
        self._clock = clock
        # Without a call history, calls missed while away are not recovered (unit tests,
        # hand-assembled stacks); the runtime always passes one (hotline/wiring.py).
        self._history = history
        self._cel = cel
        self._recovery = RecoverySettings(
            holding_queue_prefix=dialplan.holding_queue_prefix,
            inbound_context=dialplan.inbound_context,
        )
        self._recovery_timeout = recovery_timeout
        self._cursor_every = cursor_every
        self._cursor_task: asyncio.Task[None] | None = None
        self.last_recovery: RecoveryReport | None = None
        self.tracker = CallTracker(
            holding_queue_prefix=dialplan.holding_queue_prefix,
            inbound_context=dialplan.inbound_context,
            clock=clock,
        )
        self.client = AmiClient(
            host=ami.host,
            port=ami.port,
            username=ami.username,
            secret=secret,
            on_event=self.on_frame,
            on_login=self.on_login,
            wanted_events=self.tracker.wanted_events | _PBX_EVENTS,
            action_timeout=ami.action_timeout_seconds,
            ping_interval=ami.ping_interval_seconds,
            ping_timeout=ami.ping_timeout_seconds,
            reconnect_min=ami.reconnect_min_seconds,
            reconnect_max=ami.reconnect_max_seconds,
        )
        self.commands = AmiPbxCommands(self.client, node)
        self.resyncs = 0
        # Asterisk's event time -> handled here (ops/metrics.py: hotline_bridge_event_lag).
        self.event_lag = Histogram()

    async def start(self) -> None:
        self.client.start()

    async def stop(self) -> None:
        if self._cursor_task is not None:
            self._cursor_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._cursor_task
            self._cursor_task = None
        await self.client.close()
        if self._cel is not None:
            await self._cel.close()

    async def _publish(self, topic: str, event: dict[str, Any]) -> None:
        event["pbx_node"] = self.node
        await self.bus.publish(topic, event)

    async def on_frame(self, frame: Frame) -> None:
        stamp = frame.get("Timestamp")  # manager.conf timestampevents = yes
        if stamp:
            with contextlib.suppress(ValueError):
                self.event_lag.observe(max(0.0, time.time() - float(stamp)))
        for event in self.tracker.handle(frame):
            await self._publish(topics.CALL, event)
        name = frame.get("Event")
        if name == "DeviceStateChange":
            await self._publish(
                topics.PBX,
                {
                    "type": "device.state",
                    "device": frame.get("Device", ""),
                    "state": frame.get("State", ""),
                    "at": self._clock(),
                },
            )
        elif name == "QueueCallerLeave":
            await self._publish(
                topics.PBX,
                {
                    "type": "queue.left",
                    "queue": frame.get("Queue", ""),
                    "uniqueid": frame.get("Uniqueid", ""),
                    "call_id": frame.get("Linkedid", ""),
                    "at": self._clock(),
                },
            )

    async def on_login(self) -> None:
        now = self._clock()
        self.tracker.begin_session(now)
        try:
            channels = await self.commands.channel_frames()
            queues = await self.commands.queue_status_frames()
        except AmiError as exc:
            log.warning("resync failed (%s); dropping the link to retry", exc)
            self.client.drop_connection()
            return
        entries = [f for f in queues if f.get("Event") == "QueueEntry"]
        channel_frames = [f for f in channels if f.get("Event") == "CoreShowChannel"]
        variables = await self._ivr_variables(channel_frames)
        events = resync(self.tracker, channel_frames, entries, self._clock(), variables)
        self.resyncs += 1
        for event in events:
            await self._publish(topics.CALL, event)
        # Rows that began before `now` (taken before the channel list) and that the
        # tracker does not follow are calls the snapshot could have shown: gone.
        events += await self._recover(now)
        await self._publish(
            topics.PBX,
            {
                "type": "pbx.connected",
                "at": self._clock(),
                "live_calls": len(self.tracker.calls),
                # Contract with the live views (supervisor/live_service.py): the Linkedid
                # of every call Asterisk has now; a call in progress that is not listed
                # is gone (no ghost callers after a restart).
                "call_ids": sorted(self.tracker.calls),
                "resynced_events": len(events),
            },
        )

    async def _ivr_variables(self, channels: list[Frame]) -> dict[str, dict[str, str]]:
        """What the IVR left on channels this tracker does not know yet (after a restart:
        all of them), one Getvar each; a channel gone meanwhile just has none."""
        wanted = [
            f
            for f in channels
            if f.get("Channel") and f.get("Uniqueid") not in self.tracker.leg_index
        ]
        limit = asyncio.Semaphore(_GETVAR_AT_ONCE)

        async def one(f: Frame) -> tuple[str, dict[str, str]]:
            async with limit:
                try:
                    value = await self.commands.get_var(f["Channel"], IVR_VARIABLES)
                except PbxError:
                    return f["Uniqueid"], {}
            return f["Uniqueid"], parse_ivr_variables(value)

        found = await asyncio.gather(*(one(f) for f in wanted))
        return {uniqueid: values for uniqueid, values in found if values}

    async def _recover(self, now: float) -> list[dict[str, Any]]:
        """Calls that ended unseen get their records (cti/cel/recovery.py). A failure
        here (database or CEL store away) is logged: it must not cost the AMI link."""
        if self._history is None:
            return []
        try:
            events, report = await asyncio.wait_for(
                recover(self.tracker, self._history, self._cel, now, self._recovery),
                self._recovery_timeout,
            )
        except Exception:
            log.exception("recovering calls missed while away failed; next resync retries")
            return []
        self.last_recovery = report
        if self._cel is not None and self._cursor_task is None:
            self._cursor_task = asyncio.create_task(
                self._advance_cursor(self._history, self._cel), name="cel-cursor"
            )
        if events:
            log.info(
                "recovered %d calls from CEL, closed %d from CEL, %d unobserved",
                report.new_from_cel,
                report.closed_from_cel,
                report.unobserved,
            )
        for event in events:
            await self._publish(topics.CALL, event)
        return events

    async def _advance_cursor(self, history: CallHistory, cel: CelStore) -> None:
        """Every `cursor_every` seconds while the link stayed up since the last resync,
        move the CEL cursor over what the bridge saw live (cti/cel/recovery.py)."""
        while True:
            disconnects = self.client.stats.disconnects
            resyncs = self.resyncs
            await asyncio.sleep(self._cursor_every)
            if (
                not self.client.ready
                or self.client.stats.disconnects != disconnects
                or self.resyncs != resyncs
            ):
                continue  # a gap since: the next resync reads it
            try:
                await asyncio.wait_for(
                    advance_cursor(self.tracker, history, cel, self._clock(), self._recovery),
                    self._recovery_timeout,
                )
            except Exception:
                log.exception("moving the CEL cursor failed; the next resync reads more")

    def live_calls(self) -> list[dict[str, Any]]:
        return [call.snapshot() for call in self.tracker.calls.values()]
