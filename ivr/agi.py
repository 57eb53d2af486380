"""One FastAGI conversation with Asterisk: typed commands, quoting, timeouts, hangups.

    session = AgiConnection(reader, writer)
    await session.read_env()                      # agi_* variables
    key = await session.stream_file("hotline/zh/main_menu", escape="0123456789*#")
    await session.set_variable("HOTLINE_SKILL", "billing")

Contract with the dialplan (deploy/asterisk/extensions.conf [hotline-ivr]): the route is
reached after Set(AGISIGHUP=no), so Asterisk never writes an unsolicited HANGUP line
that would shift every later reply. A caller who hung up shows as result=-1 on a media
command and then "511 ... dead channel" on the next one (and as EOF when Asterisk closes
the socket): AgiHangup is raised and the session refuses any further command.

Replies are parsed by parse_reply (panoramisk's parser cannot read
`200 result= (timeout)` and raises on EOF). This is Hotline's one AGI implementation: the
IVR (ivr/fastagi.py), the surveys (followups/survey_agi.py, which need only `AgiSession`:
env + command()), the route server ivr/agi_server.py and the test stubs use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

ALL_KEYS = "0123456789*#"
__all__ = [
    "ALL_KEYS",
    "AgiCommandError",
    "AgiConnection",
    "AgiHangup",
    "AgiReply",
    "AgiSession",
    "AgiStream",
    "AgiTimeout",
    "parse_reply",
    "quote",
]
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
    text = line.strip()
    if text.startswith("200 result="):  # nearly every reply: what the pattern reads, by hand
        rest = text[11:]
        space = rest.find(" ")
        if space < 0:
            return AgiReply(200, rest, "")
        data = ""
        if rest.startswith(" (", space) and (close := rest.find(")", space)) > 0:
            data = rest[space + 2 : close]
        return AgiReply(200, rest[:space], data)
    match = _REPLY.match(text)
    if match is None:
        raise ValueError(f"not an AGI reply: {line!r}")
    return AgiReply(int(match.group(1)), match.group(2) or "", match.group(3) or "")


def quote(text: str) -> str:
    """An AGI argument in double quotes (quotes and backslashes escaped, no newlines)."""
    known = _QUOTED.get(text)
    if known is not None:
        return known
    clean = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{clean}"'


_QUOTED: dict[str, str] = {}
_QUOTED.update((text, quote(text)) for text in ("", ALL_KEYS))  # every prompt's escape keys


class AgiSession(Protocol):
    """What a route handler needs of a session (the survey routes): env and commands."""

    @property
    def env(self) -> Mapping[str, str]:
        """agi_* variables (agi_uniqueid, agi_arg_1, ...)."""
        ...

    async def command(self, line: str) -> AgiReply: ...


# Commands whose reply comes after audio or keys: a prompt, a question, an application.
_MEDIA = (
    *("STREAM FILE", "CONTROL STREAM", "GET DATA", "GET OPTION", "SAY ", "WAIT FOR"),
    *("RECORD FILE", "EXEC", "RECEIVE"),
)
MEDIA_SECONDS = 600.0


class AgiTimeout(Exception):
    """Asterisk did not answer a command in time (the call is treated as lost)."""


class AgiCommandError(Exception):
    """Asterisk refused a command (5xx other than 511): a bug on our side, logged."""


class LineReader(Protocol):
    async def readline(self) -> bytes: ...


class LineWriter(Protocol):
    @property
    def transport(self) -> asyncio.WriteTransport: ...

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def close(self) -> None: ...

    async def wait_closed(self) -> None: ...


OnConnect = Callable[["AgiStream"], Coroutine[Any, Any, None]]
LINE_LIMIT = 2**16  # asyncio.StreamReader's default: no AGI line comes near it


class AgiStream(asyncio.Protocol):
    """A FastAGI connection as a plain protocol, both the reader and the writer of an
    AgiConnection (`AgiConnection(stream, stream)`): lines are cut straight from the
    received bytes and commands written straight to the transport. The IVR server's
    connections use it (ivr/fastagi.py): under load the StreamReader/StreamWriter layers
    (readuntil, a waiter per read, feed_data, the writer's checks) were a tenth of the
    CPU of a call (cProfile, bench/ivr_fastagi.py). Same behaviour: readline() returns
    what is left (b"" at the end) once the peer closed, raises ValueError on a line over
    LINE_LIMIT; drain() waits while the transport's buffer is full and raises
    ConnectionResetError once the connection is gone.

        server = await loop.create_server(lambda: AgiStream(on_connect), host, port)

    `on_connect(stream)` runs as a task of its own per connection (as start_server's
    callback does)."""

    def __init__(self, on_connect: OnConnect | None = None) -> None:
        self._on_connect = on_connect
        self._loop = asyncio.get_running_loop()
        self._buffer = bytearray()
        self._eof = False
        self._lost = False
        self._reading_paused = False
        self._writing_paused = False
        self._waiter: asyncio.Future[None] | None = None  # a readline waiting for data
        self._drained: asyncio.Future[None] | None = None  # a drain waiting for room
        self._closed = self._loop.create_future()
        self._transport: asyncio.Transport | None = None
        self.task: asyncio.Task[None] | None = None

    @property
    def transport(self) -> asyncio.Transport:
        assert self._transport is not None
        return self._transport

    # -- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if self._on_connect is not None:
            self.task = self._loop.create_task(self._on_connect(self))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if len(self._buffer) > 2 * LINE_LIMIT and not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False  # the transport closes itself: AGI never half-closes

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = self._lost = True
        self._wake()
        drained = self._drained
        if drained is not None and not drained.done():
            drained.set_result(None)
        if not self._closed.done():
            self._closed.set_result(None)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        drained = self._drained
        if drained is not None and not drained.done():
            drained.set_result(None)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- LineReader ------------------------------------------------------------------

    async def readline(self) -> bytes:
        buffer = self._buffer
        while True:
            end = buffer.find(b"\n")
            if end >= 0:
                line = bytes(buffer[: end + 1])
                del buffer[: end + 1]
                if self._reading_paused and len(buffer) <= LINE_LIMIT:
                    self._reading_paused = False
                    self.transport.resume_reading()
                return line
            if len(buffer) > LINE_LIMIT:
                raise ValueError("AGI line over the limit")
            if self._eof:
                rest = bytes(buffer)
                buffer.clear()
                return rest
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    # -- LineWriter ------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        self.transport.write(data)

    async def drain(self) -> None:
        if self._lost:
            raise ConnectionResetError("connection lost")
        if self._writing_paused:
            self._drained = self._loop.create_future()
            try:
                await self._drained
            finally:
                self._drained = None
            if self._lost:
                raise ConnectionResetError("connection lost")

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed)


class AgiConnection:
    def __init__(
        self,
        reader: LineReader,
        writer: LineWriter,
        *,
        timeout: float = 10.0,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._timeout = timeout  # per command, beyond the time the command itself waits
        self.env: dict[str, str] = {}
        self.hung_up = False
        # The command in flight must be answered by this loop time (0: none in flight).
        # One timer per session checks it, re-armed only when it fires early: a timeout
        # context per command cost 5 us of a 30 us command (bench/ivr_fastagi.py).
        self._deadline = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None  # the session's, at its first command
        self._watch: asyncio.TimerHandle | None = None
        self._expired = False

    async def read_env(self, timeout: float = 5.0) -> None:
        """The agi_* header block, up to its blank line."""
        async with asyncio.timeout(timeout):
            while True:
                raw = await self._readline("the AGI environment")
                if not raw:
                    raise AgiHangup("connection closed before the AGI environment")
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if not line:
                    return
                key, _, value = line.partition(":")
                self.env[key.strip()] = value.strip()

    @property
    def args(self) -> list[str]:
        return [self.env[f"agi_arg_{i}"] for i in range(1, 20) if f"agi_arg_{i}" in self.env]

    async def command(self, line: str, *, waits: float | None = None) -> AgiReply:
        """Send one command; `waits` = how long the command may legitimately take (by
        default: long for commands that play or listen, none for the others). This is
        also AgiSession, what the survey routes expect."""
        if waits is None:
            waits = MEDIA_SECONDS if line.upper().startswith(_MEDIA) else 0.0
        if self.hung_up:
            raise AgiHangup(line)
        if "\n" in line or "\r" in line:
            raise AgiCommandError(f"newline in AGI command {line!r}")
        writer = self._writer
        writer.write(line.encode("utf-8") + b"\n")
        self._arm(waits + self._timeout)
        try:
            if writer.transport.get_write_buffer_size():  # a peer that does not read
                await writer.drain()
            while True:
                raw = await self._readline(line)
                if not raw:
                    raise AgiHangup(line)
                text = raw.decode("utf-8", "replace").strip()
                if text == "HANGUP":  # only if AGISIGHUP was left on; the reply follows
                    self.hung_up = True
                    continue
                try:
                    reply = parse_reply(text)
                except ValueError as exc:  # not AGI: a confused peer, end the session
                    raise AgiCommandError(f"{line!r}: unreadable reply {text[:80]!r}") from exc
                if reply.code == 100:  # "100 result=0 Trying..."
                    continue
                break
        except (ConnectionError, AgiHangup) as exc:
            self.hung_up = True
            if self._expired:  # the watch cut the connection: Asterisk did not answer
                raise AgiTimeout(line) from exc
            raise AgiHangup(line) from exc
        finally:
            self._deadline = 0.0
        if reply.code == 511:
            self.hung_up = True
            raise AgiHangup(line)
        if reply.code != 200:
            raise AgiCommandError(f"{line!r}: {text}")
        return reply

    def _arm(self, seconds: float) -> None:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        self._deadline = loop.time() + seconds
        if self._watch is None:
            self._watch = loop.call_at(self._deadline, self._check, loop)

    def _check(self, loop: asyncio.AbstractEventLoop) -> None:
        """The session's timer: re-armed for the command in flight, or, past its
        deadline, the connection is cut (the pending read ends, AgiTimeout)."""
        self._watch = None
        if not self._deadline:
            return  # nothing in flight: the next command arms the timer again
        if loop.time() < self._deadline:
            self._watch = loop.call_at(self._deadline, self._check, loop)
            return
        self._expired = True
        self._writer.transport.abort()

    async def _readline(self, what: str) -> bytes:
        try:
            return await self._reader.readline()
        except ValueError as exc:  # a line over the stream limit: not Asterisk talking
            self.hung_up = True
            raise AgiCommandError(f"{what}: oversized line from the peer") from exc

    # -- typed commands -------------------------------------------------------------

    async def stream_file(self, name: str, escape: str = "") -> str:
        """Play a sound file; the key pressed to interrupt it, or ""."""
        reply = await self.command(f"STREAM FILE {quote(name)} {quote(escape)}", waits=600)
        return await self._key(reply)

    async def get_data(
        self, prompt: str, timeout_seconds: float, max_digits: int
    ) -> tuple[str, bool]:
        """Play `prompt` ("" for none; a key interrupts it) and collect up to `max_digits`
        keys, `timeout_seconds` for the first and between keys; # ends the entry.

        Returns (digits, timed_out). Asterisk (ast_app_getdata_full) answers
        `result=<digits> (timeout)` when the time ran out, `result=` alone when # came
        first, and result=-1 when the caller hung up (or the file could not be played)."""
        ms = max(1, int(timeout_seconds * 1000))
        waits = 120 + timeout_seconds * (max_digits + 1)  # the prompt, then every key
        reply = await self.command(f"GET DATA {quote(prompt)} {ms} {int(max_digits)}", waits=waits)
        if reply.result == "-1":
            await self._alive()
            return "", True  # not a hangup: the prompt could not be played; a silence
        digits = "".join(ch for ch in reply.result if ch in ALL_KEYS)
        return digits, reply.timed_out

    async def wait_for_digit(self, timeout_seconds: float) -> str:
        ms = int(timeout_seconds * 1000)
        reply = await self.command(f"WAIT FOR DIGIT {ms}", waits=timeout_seconds)
        return await self._key(reply)

    async def say_number(self, value: int, escape: str = "") -> str:
        reply = await self.command(f"SAY NUMBER {int(value)} {quote(escape)}", waits=60)
        return await self._key(reply)

    async def say_digits(self, digits: str, escape: str = "") -> str:
        clean = "".join(ch for ch in digits if ch.isdigit()) or "0"
        reply = await self.command(f"SAY DIGITS {clean} {quote(escape)}", waits=60)
        return await self._key(reply)

    async def say_date(self, epoch: int, escape: str = "") -> str:
        reply = await self.command(f"SAY DATE {int(epoch)} {quote(escape)}", waits=60)
        return await self._key(reply)

    async def set_variable(self, name: str, value: str) -> None:
        await self.command(f"SET VARIABLE {name} {quote(value)}")

    async def get_variable(self, name: str) -> str:
        """The channel variable or dialplan function's value ("" when unset)."""
        return await self.evaluate("${" + name + "}")

    async def evaluate(self, expression: str) -> str:
        """A dialplan expression such as "${CHANNEL(linkedid)}|${X}" ("" when empty)."""
        reply = await self.command(f"GET FULL VARIABLE {quote(expression)}")
        return reply.data if reply.result == "1" else ""

    async def exec(self, application: str, arguments: str) -> None:
        await self.command(f"EXEC {application} {quote(arguments)}", waits=60)

    async def _key(self, reply: AgiReply) -> str:
        """result=<ascii code of the key>, 0 for none, -1 for failure or hangup."""
        result = reply.result
        if result == "0":  # played to the end: nearly every prompt
            return ""
        if result == "-1":
            await self._alive()  # raises AgiHangup when the caller is gone
            return ""
        try:  # not contextlib.suppress: a context manager per prompt shows under load
            code = int(result)
        except ValueError:
            return ""
        return chr(code) if code > 0 else ""

    async def _alive(self) -> None:
        # CHANNEL STATUS is refused on a dead channel (511), so it tells a hangup apart
        # from a media failure such as a missing file.
        await self.command("CHANNEL STATUS")

    async def close(self) -> None:
        self.hung_up = True
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()
