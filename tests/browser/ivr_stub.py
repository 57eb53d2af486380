"""A scripted FastAGI IVR for the desktop end-to-end test: it waits for the caller's
key (DTMF from the Local-channel caller), reports the step, then the result with the
customer and the self-service facts, per the dialplan contract (cti/events.py):
UserEvent HotlineIvrStep / HotlineIvrResult (Facts k=v;k=v, no commas) and the
HOTLINE_* channel variables, sent with the IVR's own AGI session and hand-over
(ivr/agi.py, ivr/handover.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from ivr.agi import AgiCommandError, AgiConnection, AgiHangup, AgiTimeout
from ivr.handover import hand_over
from ivr.script import IvrResult, Outcome


@dataclass
class Menu:
    customer_id: str
    tier: str
    facts: str
    skills: dict[str, str]  # key pressed -> skill
    keys: list[str]


async def _session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, menu: Menu) -> None:
    agi = AgiConnection(reader, writer)
    try:
        await agi.read_env()
        key = await agi.wait_for_digit(8.0) or "timeout"
        menu.keys.append(key)
        skill = menu.skills.get(key, "general")
        node = {"billing": "to_billing", "emergency": "to_emergency"}.get(skill, "to_repair")
        await agi.exec("UserEvent", f"HotlineIvrStep,Node: main,Input: {key}")
        pairs = [kv.partition("=") for kv in menu.facts.split(";") if "=" in kv]
        result = IvrResult(
            outcome=Outcome.QUEUE,
            skill=skill,
            priority=1030,
            language="zh",
            customer_id=int(menu.customer_id) if menu.customer_id else None,
            tier=menu.tier,
            path=("main", node),
            facts=tuple((name, value) for name, _, value in pairs),
        )
        await hand_over(agi, result, "hold-")
    except (AgiHangup, AgiTimeout, AgiCommandError, ConnectionError):
        pass
    finally:
        await agi.close()


@contextlib.asynccontextmanager
async def ivr(port: int, menu: Menu) -> AsyncIterator[Menu]:
    server = await asyncio.start_server(lambda r, w: _session(r, w, menu), "127.0.0.1", port)
    try:
        yield menu
    finally:
        server.close()
        await server.wait_closed()
