"""ivr/agi.py AgiStream, the IVR server's connection (a plain protocol instead of
StreamReader/StreamWriter): what AgiConnection relies on reads and writes the same."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from ivr.agi import LINE_LIMIT, AgiConnection, AgiHangup, AgiStream, OnConnect


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


Connected = tuple[asyncio.StreamReader, asyncio.StreamWriter, AgiStream]


@pytest.fixture
async def connected() -> AsyncIterator[Connected]:
    """One client connected to a server whose connections are AgiStreams: the client's
    reader and writer (Asterisk's side) and the server's stream."""
    accepted: asyncio.Queue[AgiStream] = asyncio.Queue()
    port = _free_port()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: AgiStream(_hold(accepted)), "127.0.0.1", port)
    try:
        async with asyncio.timeout(5):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            stream = await accepted.get()
        try:
            yield reader, writer, stream
        finally:
            writer.close()
    finally:
        server.close()
        async with asyncio.timeout(5):
            await server.wait_closed()


def _hold(accepted: asyncio.Queue[AgiStream]) -> OnConnect:
    async def on_connect(stream: AgiStream) -> None:
        accepted.put_nowait(stream)

    return on_connect


async def test_lines_split_over_packets_and_the_rest_at_the_end(connected: Connected) -> None:
    _reader, writer, stream = connected
    async with asyncio.timeout(5):
        for part in (b"agi_network_script: i", b"vr\nagi_callerid: ", "张三\n\n200 re".encode()):
            writer.write(part)
            await writer.drain()
            await asyncio.sleep(0.01)  # separate packets, not one read
        assert await stream.readline() == b"agi_network_script: ivr\n"
        assert (await stream.readline()).decode() == "agi_callerid: 张三\n"
        assert await stream.readline() == b"\n"
        writer.write_eof()
        assert await stream.readline() == b"200 re"  # what is left, as StreamReader does
        assert await stream.readline() == b""
        await stream.wait_closed()


async def test_a_session_over_a_stream_and_its_hangup(connected: Connected) -> None:
    reader, writer, stream = connected
    async with asyncio.timeout(5):
        agi = AgiConnection(stream, stream, timeout=2)
        writer.write(b"agi_network_script: ivr\nagi_arg_1: 95777\n\n")
        await agi.read_env()
        assert agi.args == ["95777"]
        asking = asyncio.ensure_future(agi.evaluate("${CHANNEL(linkedid)}"))
        assert await reader.readline() == b'GET FULL VARIABLE "${CHANNEL(linkedid)}"\n'
        writer.write(b"200 result=1 (1700000000.1)\n")
        assert await asking == "1700000000.1"
        writer.close()  # the caller hung up: Asterisk closes the socket
        with pytest.raises(AgiHangup):
            await agi.set_variable("HOTLINE_SKILL", "billing")
        await agi.close()


async def test_an_oversized_line_is_refused(connected: Connected) -> None:
    _reader, writer, stream = connected
    async with asyncio.timeout(5):
        writer.write(b"x" * (LINE_LIMIT + 10))
        await writer.drain()
        with pytest.raises(ValueError, match="over the limit"):
            await stream.readline()  # waits for more until the limit is passed
        stream.close()
        await stream.wait_closed()
        with pytest.raises(ConnectionResetError):
            await stream.drain()
