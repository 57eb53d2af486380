"""A minimal FastAGI session and server for the survey routes.

The IVR's FastAGI server (ivr/) is where production routes live; the survey handlers
only need `AgiSession` (the environment and one command at a time), so they run under
any server that offers it. `FastAgiServer` is a small one for tests and for running the
survey routes on their own (e.g. before the IVR server is wired):

    server = FastAgiServer({"followup": surveys.handle_followup}, "127.0.0.1", 4573)
    await server.start()

Contract with the dialplan (deploy/asterisk/extensions.conf [hotline-followup]):
AGI(${HOTLINE_AGI}/followup,${HOTLINE_TICKET_ID}) after Set(AGISIGHUP=no), so no
unsolicited HANGUP line ever shifts the replies; a channel gone shows as result=-1 or
a 511 reply, which raises AgiHangup.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)
_REPLY = re.compile(r"^(\d{3})(?: result=(-?[^ ]*)(?: \(([^)]*)\))?(.*))?")


class AgiHangup(Exception):
    """The channel hung up (or is dead): stop issuing commands."""


@dataclass(frozen=True)
class AgiReply:
    code: int
    result: str
    data: str  # the text in parentheses, e.g. "timeout"

    @property
    def timed_out(self) -> bool:
        return self.data == "timeout"


def parse_reply(line: str) -> AgiReply:
    match = _REPLY.match(line.strip())
    if match is None:
        raise ValueError(f"not an AGI reply: {line!r}")
    return AgiReply(int(match.group(1)), match.group(2) or "", match.group(3) or "")


class AgiSession(Protocol):
    @property
    def env(self) -> Mapping[str, str]:
        """agi_* variables (agi_uniqueid, agi_arg_1, ...)."""
        ...

    async def command(self, line: str) -> AgiReply: ...


def quote(text: str) -> str:
    """An AGI argument in double quotes (quotes and backslashes escaped, no newlines)."""
    clean = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{clean}"'


class StreamAgiSession:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float = 120.0
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._timeout = timeout
        self.env: dict[str, str] = {}
        self.hung_up = False

    async def read_env(self) -> None:
        while True:
            line = (await self._reader.readline()).decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                return
            key, _, value = line.partition(":")
            self.env[key.strip()] = value.strip()

    async def command(self, line: str) -> AgiReply:
        if self.hung_up:
            raise AgiHangup(line)
        self._writer.write(line.encode("utf-8") + b"\n")
        await self._writer.drain()
        while True:
            raw = await asyncio.wait_for(self._reader.readline(), self._timeout)
            if not raw:
                self.hung_up = True
                raise AgiHangup(line)
            text = raw.decode("utf-8", "replace").strip()
            if text == "HANGUP":  # only without AGISIGHUP=no; the reply follows
                self.hung_up = True
                continue
            reply = parse_reply(text)
            if reply.code == 511:
                self.hung_up = True
                raise AgiHangup(line)
            return reply


Handler = Callable[..., Awaitable[None]]


class FastAgiServer:
    """Routes agi://host:port/<route>,<arg1>,... to handler(session, arg1, ...)."""

    def __init__(self, routes: Mapping[str, Handler], host: str, port: int) -> None:
        self._routes = dict(routes)
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self._host, self._port)

    async def stop(self, grace: float = 10.0) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._sessions:  # let calls in progress finish writing their results
            _done, late = await asyncio.wait(list(self._sessions), timeout=grace)
            for task in late:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        session = StreamAgiSession(reader, writer)
        try:
            await session.read_env()
            route = session.env.get("agi_network_script", "").strip("/").split("?")[0]
            handler = self._routes.get(route)
            args = [
                session.env[f"agi_arg_{i}"] for i in range(1, 20) if f"agi_arg_{i}" in session.env
            ]
            if handler is None:
                log.warning("FastAGI: no route %r", route)
                return
            await handler(session, *args)
        except (AgiHangup, ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        except Exception:
            log.exception("FastAGI handler failed")
        finally:
            self._sessions.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
