"""ivr/agi_server.py against a scripted Asterisk: routes, arguments, replies, hangups."""

from __future__ import annotations

import asyncio
import socket

from ivr.agi import AgiHangup, AgiSession, parse_reply, quote
from ivr.agi_server import FastAgiServer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _asterisk(port: int, script: str, args: list[str], replies: list[str]) -> list[str]:
    """Play Asterisk: send the environment, answer each command; the commands received."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    env = [f"agi_network_script: {script}", "agi_uniqueid: 1700000000.1"]
    env += [f"agi_arg_{i}: {a}" for i, a in enumerate(args, 1)]
    writer.write(("\n".join(env) + "\n\n").encode())
    seen: list[str] = []
    for reply in replies:
        line = await asyncio.wait_for(reader.readline(), 5)
        seen.append(line.decode().strip())
        writer.write(reply.encode() + b"\n")
        await writer.drain()
    await asyncio.wait_for(reader.read(), 5)  # the server closes the session
    writer.close()
    return seen


async def test_given_a_route_with_arguments_then_the_handler_gets_them_and_its_replies() -> None:
    got: list[object] = []

    async def followup(session: AgiSession, ticket_id: str) -> None:
        got.append(ticket_id)
        value = quote('a "b"')
        got.append(await session.command(f"SET VARIABLE X {value}"))
        got.append(await session.command("GET DATA tickets/zh/q 5000 1"))

    port = _free_port()
    server = FastAgiServer({"followup": followup}, "127.0.0.1", port)
    await server.start()
    try:
        seen = await _asterisk(port, "followup", ["42"], ["200 result=1", "200 result= (timeout)"])
    finally:
        await server.stop()
    assert seen == ['SET VARIABLE X "a \\"b\\""', "GET DATA tickets/zh/q 5000 1"]
    assert got == ["42", parse_reply("200 result=1"), parse_reply("200 result= (timeout)")]
    assert parse_reply("200 result= (timeout)").timed_out


async def test_given_a_dead_channel_then_the_handler_sees_a_hangup() -> None:
    outcome: list[str] = []

    async def survey(session: AgiSession) -> None:
        try:
            await session.command('STREAM FILE beep ""')
        except AgiHangup:
            outcome.append("hangup")
            raise

    port = _free_port()
    server = FastAgiServer({"survey": survey}, "127.0.0.1", port)
    await server.start()
    try:
        await _asterisk(port, "survey", [], ["511 Command Not Permitted on a dead channel"])
    finally:
        await server.stop()
    assert outcome == ["hangup"]


async def test_given_an_unknown_route_then_the_session_just_ends() -> None:
    port = _free_port()
    server = FastAgiServer({}, "127.0.0.1", port)
    await server.start()
    try:
        assert await _asterisk(port, "nowhere", [], []) == []
    finally:
        await server.stop()
