"""Request and reply over the bus, between a process that asks (an `api` process) and the
one process that holds the state (the leader's router, its recordings service).

- a request goes out on `requests` with a fresh `request_id` and `expires_at`; it is
  consumed by a consumer group, so exactly one answering process takes it;
- the answer comes back on `replies` (fan-out: every asking process hears it and picks
  its own request_id);
- a request still unanswered at expires_at has failed for the asker (`Unanswered`), so
  the answerer drops it rather than acting late (a redelivery after a crash must not
  surprise anyone).

Payloads are JSON-ready dicts; the answer's dict is the handler's, plus the request_id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from kernel.bus.port import BusClosed, EventBus, Subscription
from kernel.clock import Clock

log = logging.getLogger("kernel.bus.rpc")

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class Unanswered(Exception):
    """Nobody answered in time (no process holds the state right now, or it is slow)."""


class BusAsker:
    def __init__(
        self, bus: EventBus, requests: str, replies: str, clock: Clock, timeout: float = 3.0
    ) -> None:
        self._bus = bus
        self._requests, self._replies = requests, replies
        self._clock = clock
        self.timeout = timeout
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._sub: Subscription | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._sub = await self._bus.subscribe(self._replies, buffer=10_000)
        self._task = asyncio.create_task(self._read(self._sub), name=f"replies-{self._replies}")

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.close()
            self._sub = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for fut in self._waiting.values():
            fut.cancel()

    async def _read(self, sub: Subscription) -> None:
        while True:
            try:
                msg = await sub.get()
            except BusClosed:
                return
            fut = self._waiting.get(str(msg.data.get("request_id")))
            if fut is not None and not fut.done():
                fut.set_result(msg.data)

    async def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        if self._sub is None:
            await self.start()
        request_id = uuid.uuid4().hex
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = fut
        try:
            await self._bus.publish(
                self._requests,
                {
                    **request,
                    "request_id": request_id,
                    "expires_at": self._clock.timestamp() + self.timeout,
                },
            )
            try:
                return await asyncio.wait_for(fut, self.timeout)
            except TimeoutError:
                raise Unanswered(f"no answer within {self.timeout:g} s") from None
        finally:
            self._waiting.pop(request_id, None)


class BusAnswerer:
    """A component: answers requests from the bus with `handle` (exceptions are the
    handler's to turn into answers; one that escapes is logged and gets no answer)."""

    def __init__(
        self,
        bus: EventBus,
        requests: str,
        replies: str,
        group: str,
        handle: Handler,
        clock: Clock,
    ) -> None:
        self._bus = bus
        self._requests, self._replies, self._group = requests, replies, group
        self._handle = handle
        self._clock = clock
        self._sub: Subscription | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._sub = await self._bus.subscribe(self._requests, group=self._group)
        self._task = asyncio.create_task(self._serve(self._sub), name=f"answer-{self._group}")

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.close()
            self._sub = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _serve(self, sub: Subscription) -> None:
        while True:
            try:
                msg = await sub.get()
            except BusClosed:
                return
            try:
                await self._answer(msg.data)
            except Exception:
                log.exception("%s: request %s failed", self._group, msg.data.get("request_id"))
            await sub.ack(msg)

    async def _answer(self, request: dict[str, Any]) -> None:
        if float(request.get("expires_at") or 0) < self._clock.timestamp():
            log.info("%s: dropping expired request %s", self._group, request.get("request_id"))
            return
        answer = await self._handle(request)
        await self._bus.publish(self._replies, {**answer, "request_id": request["request_id"]})
