"""Every IVR scenario of tests/ivr_scenarios.py that ends in an outcome, played by a
Local-channel caller on the real Asterisk 22 (SendDTMF) against IvrFastAgiServer and the
database directory; the call record (CTI bridge + call log) must show the scenario's
path, outcome, queue, priority and customer, and a fault ticket its priority.

Keys are sent one second apart ("ww"); a silence ("") between two keys is seven
seconds, longer than a menu's five-second GET DATA timeout. Prompts are not rendered,
so every prompt is a beep and the keys arrive while GET DATA waits.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from cti.commands import ChannelNotFound
from tests.integration.ivr.test_ivr_fastagi import IvrStack, _tickets_of, ivr  # noqa: F401
from tests.ivr_scenarios import SCENARIOS, Scenario
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["sqlite"])]
PLAYED = [s for s in SCENARIOS if s.outcome is not None]


def dtmf(keys: tuple[str, ...]) -> str:
    """SendDTMF digits: w = half a second. Trailing silence is just the end of the keys."""
    out = ""
    for key in keys:
        out += "w" * 14 if key == "" else "ww" + key
    return out.rstrip("w")


async def _hang_up(stack: IvrStack, linkedid: str) -> None:
    for leg in await stack.cti.bridge.commands.channels():
        if leg.linkedid == linkedid:
            with contextlib.suppress(ChannelNotFound):  # gone with its other Local half
                await stack.cti.bridge.commands.hangup(leg.channel)


async def _record(stack: IvrStack, linkedid: str, outcome: str) -> dict[str, Any]:
    """The call record once the IVR is over: queued callers are then hung up."""
    if outcome != "queue":
        return await stack.ended(linkedid, 90)

    async def queued() -> bool:
        row = await stack.cti.call_row(linkedid)
        return row is not None and row["queued_at"] is not None

    await eventually(queued, 90, f"{linkedid} queued")
    await _hang_up(stack, linkedid)
    return await stack.ended(linkedid, 30)


@pytest.mark.parametrize("case", PLAYED, ids=lambda c: c.name)
async def test_scenario_on_asterisk(ivr: IvrStack, case: Scenario) -> None:  # noqa: F811
    assert case.outcome is not None
    linkedid = await ivr.call(case.caller, dtmf(case.keys))
    row = await _record(ivr, linkedid, case.outcome)
    assert tuple(row["ivr_path"]) == case.path
    disposition = {"self_service": "self_service", "callback": "callback_requested"}
    assert row["disposition"] == disposition.get(case.outcome, "abandoned_queue")
    if case.skill:
        assert (row["queue"], row["priority"]) == (case.skill, case.priority)
    expected_customer = None
    if case.customer_id is not None:
        expected_customer = ivr.ids[case.customer_id]
    assert row["customer_id"] == expected_customer
    tickets = await _tickets_of(ivr.cti, linkedid)
    assert [t["priority"] for t in tickets] == (
        [case.ticket_priority] if case.ticket_priority else []
    )
