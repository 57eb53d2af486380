"""A minimal AMI peer on loopback for robustness tests of the client (fuzzing, hung
servers, dropped sockets). Real-Asterisk behaviour is tested against the sandbox; this
only lets a test control the bytes and the timing exactly."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass
class FakeAmi:
    port: int = 0
    answer_pings: bool = True
    logins: int = 0
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    actions: list[dict[str, str]] = field(default_factory=list)
    _server: asyncio.base_events.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.drop_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def drop_all(self) -> None:
        for w in self.writers:
            w.transport.abort()
        self.writers.clear()

    async def send(self, data: bytes) -> None:
        for w in list(self.writers):
            w.write(data)
            with contextlib.suppress(ConnectionError):
                await w.drain()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                action = dict(
                    line.split(": ", 1)
                    for line in raw.decode().strip().split("\r\n")
                    if ": " in line
                )
                self.actions.append(action)
                reply = self._reply(action)
                if reply:
                    writer.write(reply)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass

    def _reply(self, action: dict[str, str]) -> bytes:
        aid = action.get("ActionID", "")
        name = action.get("Action", "")
        if name == "Login":
            self.logins += 1
            return f"Response: Success\r\nActionID: {aid}\r\nMessage: Authentication accepted\r\n\r\n".encode()
        if name == "Ping" and not self.answer_pings:
            return b""
        if name in ("CoreShowChannels", "QueueStatus"):
            done = (
                "CoreShowChannelsComplete" if name == "CoreShowChannels" else "QueueStatusComplete"
            )
            return (
                f"Response: Success\r\nActionID: {aid}\r\nEventList: start\r\nMessage: follows\r\n\r\n"
                f"Event: {done}\r\nActionID: {aid}\r\nEventList: Complete\r\nListItems: 0\r\n\r\n"
            ).encode()
        return f"Response: Success\r\nActionID: {aid}\r\n\r\n".encode()


@contextlib.asynccontextmanager
async def fake_ami() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
