"""A scripted FastAGI IVR for the desktop end-to-end test: it waits for the caller's
key (DTMF from the Local-channel caller), reports the step, then the result with the
customer and the self-service facts, per the dialplan contract (cti/events.py):
UserEvent HotlineIvrStep / HotlineIvrResult (Facts k=v;k=v, no commas) and the
HOTLINE_* channel variables. Stands in until the IVR feature's FastAGI server exists."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass
class Menu:
    customer_id: str
    tier: str
    facts: str
    skills: dict[str, str]  # key pressed -> skill
    keys: list[str]


async def _session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, menu: Menu) -> None:
    async def agi(line: str) -> str:
        writer.write(line.encode() + b"\n")
        await writer.drain()
        return (await reader.readline()).decode(errors="replace").strip()

    try:
        while (await reader.readline()).strip():
            pass  # agi_* environment
        reply = await agi("WAIT FOR DIGIT 8000")  # "200 result=50" for "2"
        code = int(reply.partition("result=")[2].split()[0] or 0)
        key = chr(code) if code > 0 else "timeout"
        menu.keys.append(key)
        skill = menu.skills.get(key, "general")
        node = {"billing": "to_billing", "emergency": "to_emergency"}.get(skill, "to_repair")
        await agi(f'EXEC UserEvent "HotlineIvrStep,Node: main,Input: {key}"')
        for name, value in (
            ("HOTLINE_SKILL", skill),
            ("HOTLINE_PRIORITY", "1030"),
            ("HOTLINE_ACTION", "queue"),
            ("HOTLINE_CUSTOMER_ID", menu.customer_id),
            ("HOTLINE_TIER", menu.tier),
        ):
            await agi(f'SET VARIABLE {name} "{value}"')
        await agi(
            f'EXEC UserEvent "HotlineIvrResult,Outcome: queue,Skill: {skill},CallPriority: 1030,'
            f"CustomerId: {menu.customer_id},Tier: {menu.tier},CallLanguage: zh,"
            f'Path: main/{node},Facts: {menu.facts}"'
        )
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@contextlib.asynccontextmanager
async def ivr(port: int, menu: Menu) -> AsyncIterator[Menu]:
    server = await asyncio.start_server(lambda r, w: _session(r, w, menu), "127.0.0.1", port)
    try:
        yield menu
    finally:
        server.close()
        await server.wait_closed()
