"""A scripted FastAGI peer for CTI tests: it plays the IVR's part of the dialplan
contract (UserEvents HotlineIvrStep/HotlineIvrResult, HOTLINE_* variables) without the
menu engine, so call-tracking tests do not depend on the IVR feature."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass
class IvrScript:
    steps: list[tuple[str, str]] = field(default_factory=lambda: [("main", "1")])
    skill: str = "billing"
    priority: int = 10
    outcome: str = "queue"
    customer_id: str = ""
    tier: str = "C"
    linger: float = 0.2  # seconds "in the menu" before the result


async def _agi(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: str) -> str:
    writer.write(line.encode() + b"\n")
    await writer.drain()
    return (await reader.readline()).decode(errors="replace").strip()


async def _session(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, script: IvrScript
) -> None:
    try:
        while (await reader.readline()).strip():
            pass  # agi_* environment
        for node, key in script.steps:
            await _agi(reader, writer, f'EXEC UserEvent "HotlineIvrStep,Node: {node},Input: {key}"')
            await _agi(reader, writer, f"WAIT FOR DIGIT {int(script.linger * 1000)}")
        for name, value in (
            ("HOTLINE_SKILL", script.skill),
            ("HOTLINE_PRIORITY", str(script.priority)),
            ("HOTLINE_ACTION", "hangup" if script.outcome == "self_service" else "queue"),
        ):
            await _agi(reader, writer, f'SET VARIABLE {name} "{value}"')
        path = "/".join(n for n, _ in script.steps)
        await _agi(
            reader,
            writer,
            f'EXEC UserEvent "HotlineIvrResult,Outcome: {script.outcome},Skill: {script.skill},'
            f"CallPriority: {script.priority},CustomerId: {script.customer_id},Tier: {script.tier},"
            f'CallLanguage: zh,Path: {path}"',
        )
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@contextlib.asynccontextmanager
async def stub_ivr(port: int, script: IvrScript | None = None) -> AsyncIterator[IvrScript]:
    """Serve the script on 127.0.0.1:port; tests may change `script` fields live."""
    active = script or IvrScript()
    server = await asyncio.start_server(lambda r, w: _session(r, w, active), "127.0.0.1", port)
    try:
        yield active
    finally:
        server.close()
        await server.wait_closed()
