"""Kill the AMI TCP connection in the middle of 20 concurrent calls: the bridge
reconnects by itself, resyncs, and after all calls end there are exactly 20 correct
records, no duplicates and none left open."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from cti.calllog.writer import CALLS
from hotline.devservices.asterisk import AsteriskInstance
from tests.harness.cti import CtiStack
from tests.stub_agi import IvrScript, stub_ivr
from tests.support import eventually

pytestmark = pytest.mark.integration


async def test_given_link_killed_mid_calls_then_20_records_exactly(
    cti_stack: CtiStack, asterisk: AsteriskInstance
) -> None:
    client = cti_stack.bridge.client
    # A longer first backoff makes the outage real: calls end and begin inside it.
    client._reconnect_min = 2.0
    async with stub_ivr(asterisk.fastagi_port, IvrScript(skill="general", linger=0.3)):
        ids = [
            await cti_stack.call(caller=f"1380000{i:04d}", hangup_after=3 + (i % 4))
            for i in range(14)
        ]
        await asyncio.sleep(1.5)
        connects = client.stats.connects
        client.drop_connection()
        # Six more callers arrive while the bridge is blind (through a second AMI session).
        ids += [await _originate_blind(asterisk, i) for i in range(14, 20)]
        await eventually(lambda: client.stats.connects > connects, 15, "the bridge to reconnect")
        assert cti_stack.bridge.resyncs >= 2
        rows = [await cti_stack.wait_ended(i, timeout=40) for i in ids]

    assert len({r["id"] for r in rows}) == 20
    assert await cti_stack.count_calls() == 20
    async with cti_stack.engine.connect() as conn:
        open_rows = await conn.execute(
            sa.select(sa.func.count())
            .select_from(CALLS)
            .where(CALLS.c.disposition == "in_progress")
        )
        assert open_rows.scalar_one() == 0
    for row in rows:
        assert row["disposition"] in ("abandoned_queue", "abandoned_ivr"), row
        assert row["ended_at"] >= row["started_at"]
        assert row["caller_number"].startswith("1380000")


async def _originate_blind(asterisk: AsteriskInstance, i: int) -> str:
    """Originate through a separate, short-lived AMI session (the bridge's link is down)."""
    from cti.ami.client import AmiClient
    from cti.commands import AmiPbxCommands, OriginatePurpose

    other = AmiClient(
        host="127.0.0.1",
        port=asterisk.ami_port,
        username=asterisk.ami_username,
        secret=asterisk.ami_secret,
        on_event=lambda f: None,
    )
    other.start()
    try:
        await other.wait_ready(5)
        uid = f"tblind{i:02d}x{asterisk.ami_port}"
        await AmiPbxCommands(other).originate(
            "Local/95777@hotline-inbound",
            purpose=OriginatePurpose.OUTBOUND,
            uniqueid=uid,
            context="hotline-test-caller",
            caller_id=f'"盲区{i}" <1380000{i:04d}>',
            variables={"HANGUP_AFTER": "6"},
        )
        return uid
    finally:
        await other.close()
