"""A scripted FastAGI peer for CTI tests: it plays the IVR's part of the dialplan
contract (UserEvents HotlineIvrStep/HotlineIvrResult, HOTLINE_* variables) without the
menu engine, so call-tracking tests do not depend on the IVR feature. It speaks AGI with
the IVR's own session (ivr/agi.py) and hands over as the IVR does (ivr/handover.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from ivr.agi import AgiCommandError, AgiConnection, AgiHangup, AgiTimeout
from ivr.handover import hand_over
from ivr.script import IvrResult, Outcome

HOLDING_QUEUE_PREFIX = "hold-"  # config.yaml pbx.dialplan.holding_queue_prefix


@dataclass
class IvrScript:
    steps: list[tuple[str, str]] = field(default_factory=lambda: [("main", "1")])
    skill: str = "billing"
    priority: int = 10
    outcome: str = "queue"
    customer_id: str = ""
    tier: str = "C"
    linger: float = 0.2  # seconds "in the menu" before the result


def _result(script: IvrScript) -> IvrResult:
    outcome = Outcome(script.outcome)
    return IvrResult(
        outcome=outcome,
        skill=script.skill,
        priority=script.priority,
        language="zh",
        customer_id=int(script.customer_id) if script.customer_id else None,
        tier=script.tier,
        path=tuple(node for node, _ in script.steps),
        facts=(),
        action="hangup" if outcome is Outcome.SELF_SERVICE else "queue",
    )


async def _session(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, script: IvrScript
) -> None:
    agi = AgiConnection(reader, writer)
    try:
        await agi.read_env()
        for node, key in script.steps:
            await agi.exec("UserEvent", f"HotlineIvrStep,Node: {node},Input: {key}")
            await agi.wait_for_digit(script.linger)
        await hand_over(agi, _result(script), HOLDING_QUEUE_PREFIX)
    except (AgiHangup, AgiTimeout, AgiCommandError, ConnectionError):
        pass
    finally:
        await agi.close()


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
