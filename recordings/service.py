"""Recording control: MixMonitor on answer per policy, pause/resume/stop on demand, and
the file's metadata once the call ends.

Bus: group "recordings" on topic "call" (cti/events.py). call.answered starts MixMonitor
on the caller's channel when recording.mode says so; call.ended (or stop()) finishes:
wait for MixMonitor to close the file, measure it (size, sha256, duration from the
file), complete the recordings row and link calls.recording_id. A file that never
appears is marked missing and raised as an alert (topic "alert").

Per-call work runs in tasks bounded by a semaphore (MAX_CONCURRENT): a slow PBX or disk
delays recordings, never the bus consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from cti.commands import ChannelNotFound, PbxCommands, PbxError
from cti.nodes import on_node
from db.models import RecordingState
from hotline.services import Services
from kernel import topics
from kernel.at_rest import AtRest
from kernel.audit import Actor
from kernel.bus.port import BusClosed, Subscription
from kernel.clock import from_timestamp
from kernel.config.pbx import DEFAULT_NODE
from recordings.errors import CallNotLive, NoActiveRecording
from recordings.media import MediaError, facts_of, seal_in_place, wait_finished
from recordings.policy import asterisk_path, host_path, pick_channel, relative_path, should_record
from recordings.store import SYSTEM, RecordingStore

log = logging.getLogger(__name__)
GROUP = "recordings"
MAX_CONCURRENT = 64
CHANNEL_ATTEMPTS = 40  # x CHANNEL_RETRY seconds: the bridge forms just after the answer
CHANNEL_RETRY = 0.05
FILE_TIMEOUT = 15.0  # seconds MixMonitor may take to close a file after the hangup
MAX_LIVE = 5_000  # calls followed at once; older unrecorded ones are forgotten past this


@dataclass
class Active:
    recording_id: int
    channel: str
    relative: str
    paused: bool = False


@dataclass
class LiveCall:
    snapshot: dict[str, Any]
    active: Active | None = None
    node: str = DEFAULT_NODE  # the Asterisk the call is on (calls.pbx_node)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RecordingService:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._settings = services.settings.recording
        self.store = RecordingStore(services.sessions)
        self._calls: dict[str, LiveCall] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(MAX_CONCURRENT)
        self._consumer: asyncio.Task[None] | None = None
        self._sub: Subscription | None = None
        # recordings/api.py controls live calls through this instance.
        services.features.recordings = self
        self.file_timeout = FILE_TIMEOUT
        # HOTLINE_AT_REST_KEY: finished recordings are sealed on disk (media.seal_in_place).
        self.at_rest = AtRest.from_env()

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        self._sub = await self._services.bus.subscribe(topics.CALL, group=GROUP)
        self._consumer = asyncio.create_task(self._consume(self._sub), name="recordings")

    async def stop(self) -> None:
        if self._consumer is not None:
            self._consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self.file_timeout + 5)
        for task in list(self._tasks):
            task.cancel()

    async def _consume(self, sub: Subscription) -> None:
        try:
            while True:
                try:
                    msg = await sub.get()
                except BusClosed:
                    return
                try:
                    self.handle(msg.data)
                except Exception:
                    log.exception("recordings: event %s failed", msg.data.get("type"))
                await sub.ack(msg)
        finally:
            await sub.close()

    def handle(self, event: dict[str, Any]) -> None:
        """Route one call event (synchronous: the work goes to a task)."""
        call_id = event.get("call_id")
        snapshot = event.get("call")
        if not call_id or not isinstance(snapshot, dict):
            return
        kind = event.get("type")
        if kind == "call.ended":
            live = self._calls.pop(call_id, None)
            if live is not None:  # a start under way holds the lock: _finish waits for it
                self._spawn(self._finish(live, snapshot, reason="call.ended"))
            return
        live = self._calls.get(call_id)
        if live is None:
            self._forget_stale()
            live = self._calls[call_id] = LiveCall(snapshot)
        live.snapshot = snapshot
        live.node = str(event.get("pbx_node") or live.node)
        if kind == "call.merged":
            self._merge(live, event.get("merged_call_id"), snapshot)
        if kind == "call.answered" and live.active is None:
            self._spawn(self._auto_start(call_id, live))

    def _merge(self, live: LiveCall, merged: Any, snapshot: dict[str, Any]) -> None:
        """Asterisk folded another call into this one (cti tracker: call.merged): its
        recording goes on under this call, or finishes if this one has its own."""
        other = self._calls.pop(str(merged), None) if merged else None
        if other is None or other.active is None:
            return
        if live.active is None:
            live.active = other.active
        else:
            self._spawn(self._stop_and_finish(other, snapshot))

    async def _stop_and_finish(self, live: LiveCall, snapshot: dict[str, Any]) -> None:
        if live.active is not None and self._services.pbx is not None:
            with contextlib.suppress(PbxError):
                pbx = on_node(self._services.pbx, live.node)
                await pbx.stop_recording(live.active.channel)
        await self._finish(live, snapshot, reason="call.merged")

    def _forget_stale(self) -> None:
        """A call.ended lost while the bridge was away must not keep a call forever."""
        if len(self._calls) < MAX_LIVE:
            return
        for call_id in [c for c, live in self._calls.items() if live.active is None]:
            del self._calls[call_id]
            if len(self._calls) < MAX_LIVE // 2:
                return

    def _spawn(self, work: Any) -> None:
        async def bounded() -> None:
            async with self._slots:
                try:
                    await work
                except Exception:
                    log.exception("recordings: task failed")

        task = asyncio.create_task(bounded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- starting --------------------------------------------------------------------

    async def _auto_start(self, call_id: str, live: LiveCall) -> None:
        async with live.lock:
            if live.active is not None:
                return
            agent = live.snapshot.get("agent")
            agent_id, username = await self.store.agent_of(agent)
            if not should_record(self._settings, live.snapshot, username):
                return
            try:
                await self._begin(call_id, live, agent_id, SYSTEM)
            except (CallNotLive, PbxError) as exc:
                log.warning("recordings: could not record %s: %s", call_id, exc)

    async def start_recording(self, call_id: str, actor: Actor = SYSTEM) -> int:
        """On demand (any mode): returns the recording id; the live one if already on."""
        live = self._calls.get(call_id)
        if live is None:
            raise CallNotLive(f"call {call_id} is not live")
        async with live.lock:
            if live.active is not None:
                return live.active.recording_id
            agent_id, _ = await self.store.agent_of(live.snapshot.get("agent"))
            return await self._begin(call_id, live, agent_id, actor)

    async def _begin(self, call_id: str, live: LiveCall, agent_id: int | None, actor: Actor) -> int:
        pbx = on_node(self._pbx(), live.node)  # channel names are per node
        channel = await self._caller_channel(pbx, call_id, live.snapshot.get("agent"))
        now = self._services.clock.now()
        n = await self.store.count_for_call(call_id, live.node) + 1
        relative = str(relative_path(call_id, now, self._settings.format, n))
        await pbx.start_recording(channel, asterisk_path(self._settings, relative))
        recording_id = await self.store.create(
            linkedid=call_id,
            node=live.node,
            path=relative,
            fmt=self._settings.format,
            agent_id=agent_id,
            started_at=now,
            call_started=live.snapshot.get("started_at"),
        )
        live.active = Active(recording_id, channel, relative)
        await self.store.audit(actor, "recording.start", recording_id, now, call=call_id)
        return recording_id

    def _pbx(self) -> PbxCommands:
        pbx = self._services.pbx
        if pbx is None:
            raise CallNotLive("no PBX link in this process")
        return pbx

    async def _caller_channel(self, pbx: PbxCommands, call_id: str, agent: str | None) -> str:
        for _ in range(CHANNEL_ATTEMPTS):
            found = pick_channel(await pbx.channels(), call_id, agent)
            if found is not None:
                return found.channel
            await asyncio.sleep(CHANNEL_RETRY)
        raise CallNotLive(f"call {call_id} has no bridged caller channel")

    # -- pause, resume, stop ---------------------------------------------------------

    async def pause(self, call_id: str, actor: Actor = SYSTEM) -> None:
        """Mute both directions (silence keeps the timeline), e.g. while card data is read."""
        await self._set_paused(call_id, True, actor)

    async def resume(self, call_id: str, actor: Actor = SYSTEM) -> None:
        await self._set_paused(call_id, False, actor)

    async def _set_paused(self, call_id: str, paused: bool, actor: Actor) -> None:
        live, active = self._active(call_id)
        async with live.lock:
            await on_node(self._pbx(), live.node).pause_recording(active.channel, paused)
            active.paused = paused
            state = RecordingState.PAUSED if paused else RecordingState.RECORDING
            await self.store.set_state(active.recording_id, state)
            action = "recording.pause" if paused else "recording.resume"
            now = self._services.clock.now()
            await self.store.audit(actor, action, active.recording_id, now, call=call_id)

    async def stop_recording(self, call_id: str, actor: Actor = SYSTEM) -> int:
        """Stop now (the call goes on); returns the recording id. Metadata follows."""
        live, active = self._active(call_id)
        async with live.lock:
            with contextlib.suppress(ChannelNotFound):
                await on_node(self._pbx(), live.node).stop_recording(active.channel)
            live.active = None
        now = self._services.clock.now()
        await self.store.audit(actor, "recording.stop", active.recording_id, now, call=call_id)
        await self._finish(LiveCall(live.snapshot, active), live.snapshot, reason="stopped")
        return active.recording_id

    def _active(self, call_id: str) -> tuple[LiveCall, Active]:
        live = self._calls.get(call_id)
        if live is None or live.active is None:
            raise NoActiveRecording(f"call {call_id} is not being recorded")
        return live, live.active

    def agent_of(self, call_id: str) -> str | None:
        """Extension of the agent on a live call (the API lets agents control their own)."""
        live = self._calls.get(call_id)
        agent = live.snapshot.get("agent") if live else None
        return str(agent) if agent else None

    def active_recording(self, call_id: str) -> int | None:
        live = self._calls.get(call_id)
        return live.active.recording_id if live and live.active else None

    # -- finishing -------------------------------------------------------------------

    async def _finish(self, live: LiveCall, snapshot: dict[str, Any], *, reason: str) -> None:
        async with live.lock:  # a start still under way completes first
            active = live.active
        if active is None:
            return
        path = host_path(self._settings, active.relative)
        fmt = self._settings.format
        done = await asyncio.to_thread(wait_finished, path, fmt, self.file_timeout)
        ended = snapshot.get("ended_at")
        ended_at = from_timestamp(ended) if ended else self._services.clock.now()
        if not path.exists():
            await self.store.complete(active.recording_id, ended_at, state=RecordingState.MISSING)
            await self.alert(
                "recording.missing",
                active.recording_id,
                active.relative,
                "MixMonitor wrote no file for this call",
            )
            return
        if not done:
            log.warning("recordings: %s not closed after %ss", path, self.file_timeout)
        try:
            facts = await asyncio.to_thread(facts_of, path, fmt)
        except MediaError as exc:
            await self.store.complete(active.recording_id, ended_at, state=RecordingState.CORRUPTED)
            await self.alert("recording.corrupted", active.recording_id, active.relative, str(exc))
            return
        try:
            await asyncio.to_thread(seal_in_place, path, self.at_rest)
        except OSError as exc:  # the plain file stays and still plays; say so loudly
            log.error("recordings: %s could not be sealed at rest: %s", active.relative, exc)
        await self.store.complete(
            active.recording_id,
            ended_at,
            state=RecordingState.COMPLETED,
            duration_seconds=facts.duration_seconds,
            size_bytes=facts.size_bytes,
            sha256=facts.sha256,
        )
        log.info("recordings: %s done (%s, %.1fs)", active.relative, reason, facts.duration_seconds)

    async def alert(self, kind: str, recording_id: int, path: str, message: str) -> None:
        await self._services.bus.publish(
            topics.ALERT,
            topics.recording_alert(
                kind,
                recording_id=recording_id,
                path=path,
                message=message,
                at=self._services.clock.timestamp(),
            ),
        )
