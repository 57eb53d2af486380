"""A websocket stand-in for pure connection tests: records frames, can stall like a
desktop that stopped reading."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.websockets import WebSocketState


class FakeSocket:
    def __init__(self, *, stalled: bool = False) -> None:
        self.sent: list[dict[str, Any]] = []
        self.closed_with: tuple[int, str] | None = None
        self.application_state = WebSocketState.CONNECTED
        self.flowing = asyncio.Event()
        if not stalled:
            self.flowing.set()

    async def send_text(self, text: str) -> None:
        await self.flowing.wait()
        self.sent.append(json.loads(text))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed_with = (code, reason)
        self.application_state = WebSocketState.DISCONNECTED
