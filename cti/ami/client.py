"""The AMI link: one TCP session to Asterisk, kept alive, with actions and events.

Built on panoramisk's AMIProtocol for the transport plumbing, with its wire edge
replaced (bytes buffered and decoded per message, see frames.py) and its weak spots
routed around (LIBRARIES.md): every action has a timeout; list actions complete on
their `EventList: Complete` event (QueueAdd no longer hangs); our own ping watchdog
drops a hung link; reconnect uses exponential backoff with jitter; events are handed
to ONE consumer task in arrival order, and the reader pauses the socket when that
consumer falls behind (TCP backpressure instead of an unbounded queue).

After every successful login `on_login` runs in the consumer task *before* any event
that arrived after it, so a resync snapshot and the live events stay in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from panoramisk.ami_protocol import AMIProtocol

from cti.ami.errors import AmiActionFailed, AmiError, AmiNotConnected, AmiTimeout
from cti.ami.frames import Frame, FrameParser, encode_action
from kernel.lifecycle import cancel_and_wait

log = logging.getLogger(__name__)

EventHandler = Callable[[Frame], Awaitable[None] | None]
LoginHook = Callable[[], Awaitable[None]]


@dataclass
class AmiResponse:
    frame: Frame
    events: list[Frame] = field(default_factory=list)

    @property
    def message(self) -> str:
        return self.frame.get("Message", "")

    def get(self, key: str, default: str = "") -> str:
        return self.frame.get(key, default)


@dataclass
class _Pending:
    action: str
    future: asyncio.Future[AmiResponse]
    response: Frame | None = None
    events: list[Frame] = field(default_factory=list)


@dataclass
class AmiStats:
    connects: int = 0
    disconnects: int = 0
    login_failures: int = 0
    frames: int = 0
    events: int = 0
    handler_errors: int = 0
    pings_missed: int = 0


class _LoggedIn:
    """Marker in the event queue: run the login hook here."""


_LOGGED_IN = _LoggedIn()


class _Protocol(AMIProtocol):  # type: ignore[misc]
    def __init__(self, client: AmiClient) -> None:
        self._client = client
        self.parser = FrameParser(client.wanted_events)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._client.tap is not None:
            self._client.tap(data)
        self._client._on_frames(self.parser.feed(data))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._client._on_connection_lost(self, exc)

    def write(self, data: bytes) -> None:
        self.transport.write(data)


class AmiClient:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        secret: str,
        on_event: EventHandler,
        on_login: LoginHook | None = None,
        wanted_events: Iterable[str] | None = None,
        event_mask: str = "on",
        action_timeout: float = 5.0,
        ping_interval: float = 5.0,
        ping_timeout: float = 3.0,
        reconnect_min: float = 0.5,
        reconnect_max: float = 30.0,
        max_buffered_frames: int = 50_000,
    ) -> None:
        self.host, self.port = host, port
        self._username, self._secret = username, secret
        self._on_event = on_event
        self._on_login = on_login
        self.wanted_events = None if wanted_events is None else set(wanted_events)
        self._event_mask = event_mask
        self.action_timeout = action_timeout
        self._ping_interval, self._ping_timeout = ping_interval, ping_timeout
        self._reconnect_min, self._reconnect_max = reconnect_min, reconnect_max
        self._high_water = max_buffered_frames
        self._ids = itertools.count(1)
        self._pending: dict[str, _Pending] = {}
        self._queue: asyncio.Queue[list[Frame] | _LoggedIn] = asyncio.Queue()
        self._queued = 0
        self._paused = False
        self._protocol: _Protocol | None = None
        self._lost: asyncio.Event | None = None
        self._ready = asyncio.Event()
        self._closing = False
        self._tasks: list[asyncio.Task[None]] = []
        self.stats = AmiStats()
        self.version: str | None = None
        # Sees every TCP read as received (trace recording, see cti/ami/trace.py).
        self.tap: Callable[[bytes], None] | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._run(), name="ami-link"),
            asyncio.create_task(self._consume(), name="ami-events"),
        ]

    @property
    def closing(self) -> bool:
        return self._closing

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def wait_ready(self, timeout: float = 10.0) -> None:
        try:
            async with asyncio.timeout(timeout):
                await self._ready.wait()
        except TimeoutError:
            raise AmiNotConnected(f"no AMI session to {self.host}:{self.port}") from None

    async def close(self) -> None:
        self._closing = True
        self._ready.clear()
        if self._protocol is not None:
            self._protocol.transport.close()
        # Bounded: a consumer stuck in a login hook or an event handler cannot hold up
        # the process's stop (kernel/lifecycle.py).
        await cancel_and_wait(self._tasks, what=f"AMI link {self.host}:{self.port}")
        self._tasks = []
        self._fail_pending(AmiNotConnected("client closed"))

    def drop_connection(self) -> None:
        """Abort the TCP session (tests, and the watchdog); the link reconnects by itself."""
        if self._protocol is not None:
            self._protocol.transport.abort()

    # -- actions ---------------------------------------------------------------

    async def send(
        self, action: str, headers: dict[str, Any] | None = None, *, timeout: float | None = None
    ) -> AmiResponse:
        """Send one action; returns its response (and list events), raises AmiError."""
        timeout = self.action_timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if action != "Login":
            await self.wait_ready(timeout)
        protocol = self._protocol
        if protocol is None or protocol.closed:
            raise AmiNotConnected(f"{action}: AMI link is down")
        action_id = f"hl-{next(self._ids)}"
        wire: dict[str, str | list[str]] = {"Action": action, "ActionID": action_id}
        for key, value in (headers or {}).items():
            if value is None:
                continue
            if isinstance(value, list | tuple):
                wire[key] = [str(v) for v in value]
            else:
                wire[key] = str(value)
        pending = _Pending(action, loop.create_future())
        self._pending[action_id] = pending
        try:
            protocol.write(encode_action(wire))
            # asyncio.timeout, not wait_for: before Python 3.12 wait_for drops a cancel
            # that lands in the iteration the answer arrives in, and the consumer task
            # then outlives close() (tests/unit/cti/test_ami_close.py).
            async with asyncio.timeout_at(deadline):
                return await asyncio.shield(pending.future)
        except TimeoutError:
            raise AmiTimeout(f"{action}: no answer within {timeout:.1f}s") from None
        finally:
            self._pending.pop(action_id, None)

    # -- connection loop -------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        while not self._closing:
            connects = self.stats.connects
            try:
                await self._session(loop)
            except (OSError, AmiError, TimeoutError) as exc:
                log.warning("AMI %s:%s: %s", self.host, self.port, exc)
            if self.closing:
                return
            # A session that logged in resets the backoff: reconnect fast after a blip.
            failures = 1 if self.stats.connects > connects else failures + 1
            delay = min(self._reconnect_max, self._reconnect_min * 2 ** min(failures - 1, 16))
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # jitter: no herd

    async def _session(self, loop: asyncio.AbstractEventLoop) -> None:
        self._lost = asyncio.Event()
        _, protocol = await asyncio.wait_for(
            loop.create_connection(lambda: _Protocol(self), self.host, self.port),
            self.action_timeout,
        )
        self._protocol = protocol
        try:
            await self.send(
                "Login",
                {"Username": self._username, "Secret": self._secret, "Events": self._event_mask},
            )
        except AmiActionFailed:
            self.stats.login_failures += 1
            protocol.transport.close()
            raise
        except AmiError:
            protocol.transport.close()
            raise
        self.version = protocol.parser.version
        self.stats.connects += 1
        self._queue.put_nowait(_LOGGED_IN)
        self._ready.set()
        log.info("AMI logged in to %s:%s (%s)", self.host, self.port, self.version)
        pinger = asyncio.create_task(self._watchdog(protocol), name="ami-ping")
        try:
            await self._lost.wait()
        finally:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinger
        if not self._closing:
            self.stats.disconnects += 1
            raise AmiNotConnected("connection lost")

    async def _watchdog(self, protocol: _Protocol) -> None:
        # panoramisk's ping never checks the reply; a hung Asterisk must drop the link.
        while not protocol.closed:
            await asyncio.sleep(self._ping_interval)
            try:
                await self.send("Ping", timeout=self._ping_timeout)
            except AmiTimeout:
                self.stats.pings_missed += 1
                log.warning("AMI ping unanswered; dropping the link to reconnect")
                protocol.transport.abort()
                return
            except AmiError:
                return

    # -- called by the protocol ------------------------------------------------

    def _on_connection_lost(self, protocol: _Protocol, exc: Exception | None) -> None:
        if protocol is not self._protocol:
            return
        self._ready.clear()
        self._protocol = None
        self._fail_pending(AmiNotConnected(f"connection lost: {exc or 'closed by peer'}"))
        if self._lost is not None:
            self._lost.set()

    def _fail_pending(self, exc: AmiError) -> None:
        for pending in list(self._pending.values()):
            if not pending.future.done():
                pending.future.set_exception(exc)
                pending.future.exception()  # mark retrieved: the waiter may be gone
        self._pending.clear()

    def _on_frames(self, frames: list[Frame]) -> None:
        if not frames:
            return
        self.stats.frames += len(frames)
        events: list[Frame] = []
        pending_map = self._pending
        for frame in frames:
            action_id = frame.get("ActionID")
            pending = pending_map.get(action_id) if action_id else None
            if pending is None:
                if "Event" in frame:
                    events.append(frame)
                continue
            if "Response" in frame:
                self._on_response(pending, frame)
            elif pending.response is not None:
                if frame.get("EventList") == "Complete":
                    self._resolve(pending, AmiResponse(pending.response, pending.events))
                else:
                    pending.events.append(frame)
            else:
                events.append(frame)
        if events:
            self.stats.events += len(events)
            self._queue.put_nowait(events)
            self._queued += len(events)
            if self._queued > self._high_water and not self._paused and self._protocol:
                self._paused = True
                self._protocol.transport.pause_reading()

    def _on_response(self, pending: _Pending, frame: Frame) -> None:
        if frame.get("Response") == "Error":
            if not pending.future.done():
                pending.future.set_exception(AmiActionFailed(pending.action, frame))
            return
        if frame.get("EventList") == "start":
            pending.response = frame  # items follow, then "EventList: Complete"
            return
        self._resolve(pending, AmiResponse(frame))

    @staticmethod
    def _resolve(pending: _Pending, response: AmiResponse) -> None:
        if not pending.future.done():
            pending.future.set_result(response)

    # -- the one event consumer ------------------------------------------------

    async def _consume(self) -> None:
        is_coroutine = inspect.iscoroutinefunction(self._on_event)
        while True:
            item = await self._queue.get()
            if isinstance(item, _LoggedIn):
                if self._on_login is not None:
                    try:
                        await self._on_login()
                    except Exception:
                        log.exception("AMI login hook failed")
                continue
            for frame in item:
                try:
                    if is_coroutine:
                        await self._on_event(frame)  # type: ignore[misc]
                    else:
                        self._on_event(frame)
                except Exception:
                    self.stats.handler_errors += 1
                    log.exception("AMI event handler failed on %s", frame.get("Event"))
            self._queued -= len(item)
            if self._paused and self._queued < self._high_water // 2 and self._protocol:
                self._paused = False
                self._protocol.transport.resume_reading()
