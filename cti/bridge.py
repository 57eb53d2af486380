"""The CTI bridge: AMI link -> call tracker -> domain events on the bus.

Exactly one bridge per Asterisk may run (see cti/leader.py), or every call would be
logged twice. On every (re)login the tracker is reconciled with Asterisk's own view
(resync) before any later event is handled: the AMI client runs the login hook in its
single event consumer, so the snapshot and the live events cannot interleave.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from cti.ami.client import AmiClient
from cti.ami.errors import AmiError
from cti.ami.frames import Frame
from cti.commands import AmiPbxCommands
from cti.events import TOPIC_CALL
from cti.tracking.resync import resync
from cti.tracking.tracker import CallTracker
from hotline.bus.port import EventBus
from hotline.config.pbx import AmiSettings, DialplanContract

log = logging.getLogger(__name__)

TOPIC_PBX = "pbx"  # link state and device (phone) state, for routing and supervisors
_PBX_EVENTS = {"DeviceStateChange", "QueueCallerLeave"}


class CtiBridge:
    def __init__(
        self,
        ami: AmiSettings,
        dialplan: DialplanContract,
        bus: EventBus,
        *,
        secret: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bus = bus
        self._clock = clock
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
        self.commands = AmiPbxCommands(self.client)
        self.resyncs = 0

    async def start(self) -> None:
        self.client.start()

    async def stop(self) -> None:
        await self.client.close()

    async def on_frame(self, frame: Frame) -> None:
        for event in self.tracker.handle(frame):
            await self.bus.publish(TOPIC_CALL, event)
        name = frame.get("Event")
        if name == "DeviceStateChange":
            await self.bus.publish(
                TOPIC_PBX,
                {
                    "type": "device.state",
                    "device": frame.get("Device", ""),
                    "state": frame.get("State", ""),
                    "at": self._clock(),
                },
            )
        elif name == "QueueCallerLeave":
            await self.bus.publish(
                TOPIC_PBX,
                {
                    "type": "queue.left",
                    "queue": frame.get("Queue", ""),
                    "uniqueid": frame.get("Uniqueid", ""),
                    "call_id": frame.get("Linkedid", ""),
                    "at": self._clock(),
                },
            )

    async def on_login(self) -> None:
        try:
            channels = await self.commands.channel_frames()
            queues = await self.commands.queue_status_frames()
        except AmiError as exc:
            log.warning("resync failed (%s); dropping the link to retry", exc)
            self.client.drop_connection()
            return
        entries = [f for f in queues if f.get("Event") == "QueueEntry"]
        channel_frames = [f for f in channels if f.get("Event") == "CoreShowChannel"]
        events = resync(self.tracker, channel_frames, entries, self._clock())
        self.resyncs += 1
        for event in events:
            await self.bus.publish(TOPIC_CALL, event)
        await self.bus.publish(
            TOPIC_PBX,
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

    def live_calls(self) -> list[dict[str, Any]]:
        return [call.snapshot() for call in self.tracker.calls.values()]
