"""One desktop's websocket: a bounded queue and one sender task.

Overflow policy: a desktop that falls `max_queue` frames behind is disconnected with
close code 1013 ("try again later") instead of being allowed to slow anyone else down or
grow memory. Nothing is lost by that: the desktop reconnects with the last sequence
number it saw and gets the rest from the agent's replay buffer (replay.py).

The sender task only writes frames. `on_pop_sent` is a plain callback: what follows a pop
(telling the router over the bus, the audit row) runs in tasks the hub owns, because the
sender is cancelled the moment the desktop goes away, and a Redis command cancelled
mid-flight loses the acknowledgement (redis-py may even swallow the cancellation, which
left the sender, and with it uvicorn's shutdown, waiting forever).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from starlette.websockets import WebSocket, WebSocketState

from agent_api.auth import Principal
from desk.push.replay import Frame

log = logging.getLogger("hotline.api.ws")

CLOSE_POLICY = 1008  # bad, expired or revoked token; wrong origin
CLOSE_TRY_AGAIN = 1013  # too slow: reconnect and resume
CLOSE_GOING_AWAY = 1001  # server shutting down

OnPopSent = Callable[["AgentConnection", Frame], None]
STOP_GRACE = 0.5  # seconds between cancellations of a sender that does not end


class AgentConnection:
    def __init__(
        self,
        ws: WebSocket,
        principal: Principal,
        *,
        on_pop_sent: OnPopSent,
        max_queue: int = 256,
    ) -> None:
        self.ws = ws
        self.principal = principal
        self.expires_at = principal.expires_at
        self._on_pop_sent = on_pop_sent
        self._queue: asyncio.Queue[Frame] = asyncio.Queue(max_queue)
        self._task: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self._reason = ""
        self._closer: asyncio.Task[None] | None = None
        self.sent = 0

    @property
    def agent_id(self) -> int:
        return self.principal.id

    def start(self) -> None:
        self._task = asyncio.create_task(self._send_loop(), name=f"ws-send-{self.agent_id}")

    def push(self, frame: Frame) -> bool:
        """Queue a frame; False (and the connection is closing) when it is too far behind."""
        if self.close_code is not None:
            return False
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            log.warning("desktop of agent %s is too slow: disconnecting it", self.agent_id)
            self.close(CLOSE_TRY_AGAIN, "too slow: reconnect and resume")
            return False
        return True

    def close(self, code: int, reason: str) -> None:
        """Close with `code`; queued frames are dropped (the replay buffer has them)."""
        if self.close_code is not None:
            return
        self.close_code, self._reason = code, reason
        if self._task is not None:
            self._task.cancel()  # it may be stuck sending to a peer that does not read
        self._closer = asyncio.get_running_loop().create_task(self._close_socket())

    async def _close_socket(self) -> None:
        with contextlib.suppress(Exception):
            if self.ws.application_state is WebSocketState.CONNECTED:
                await self.ws.close(self.close_code or 1000, self._reason)
        self.closed.set()

    async def _send_loop(self) -> None:
        try:
            while True:
                frame = await self._queue.get()
                text = await frame.payload()
                await self.ws.send_text(text)
                self.sent += 1
                if frame.pop_call_id is not None:
                    self._on_pop_sent(self, frame)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the peer went away mid-send
            log.debug("send to agent %s failed: %s", self.agent_id, exc)
            if self.close_code is None:
                self.close_code, self._reason = 1006, "send failed"
            self.closed.set()

    async def stop(self) -> None:
        task = self._task
        if task is not None:
            # Cancel until it ends: one cancellation may be swallowed by a library the
            # sender awaited (then it would wait on the queue forever, and so would we).
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=STOP_GRACE)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                task.result()
        self.closed.set()
