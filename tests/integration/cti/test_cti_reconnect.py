"""Kill the AMI TCP connection in the middle of 20 concurrent calls: the bridge
reconnects by itself, resyncs, and after all calls end there are exactly 20 correct
records, no duplicates and none left open."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cti.calllog.writer import CALLS
from cti.commands import AmiPbxCommands, OriginatePurpose
from devtools.services.asterisk import AsteriskInstance
from tests.harness.cti import CtiStack, ami_session
from tests.harness.stub_agi import IvrScript, stub_ivr
from tests.support import eventually

pytestmark = pytest.mark.integration


async def test_given_link_killed_mid_calls_then_20_records_exactly(
    cti_stack: CtiStack, asterisk: AsteriskInstance
) -> None:
    client = cti_stack.bridge.client
    # A long first backoff makes the outage real: the link stays down 3 to 6 s, so the
    # calls that hang up first (3 s after answer) end inside it; six begin inside it and
    # last past it (10 s).
    client._reconnect_min = 6.0
    async with stub_ivr(asterisk.fastagi_port, IvrScript(skill="general", linger=0.3)):
        ids = [
            await cti_stack.call(caller=f"1380000{i:04d}", hangup_after=3 + (i % 4))
            for i in range(14)
        ]
        # The link goes down while all 14 are live (they hang up after 3 to 6 s) and known
        # with their callers: an originated Local channel gets its caller id just after
        # Newchannel (NewCallerid), and a call whose caller id fell in the outage and that
        # ended there too cannot be named by anyone (CI: one such record had '').
        calls = cti_stack.bridge.tracker.calls
        await eventually(
            lambda: all(i in calls and calls[i].caller_number for i in ids),
            10,
            "the 14 calls tracked with their callers",
        )
        connects, resyncs = client.stats.connects, cti_stack.bridge.resyncs
        client.drop_connection()
        # Six more callers arrive while the bridge is blind (through a second AMI session).
        ids += [await _originate_blind(asterisk, i) for i in range(14, 20)]
        # `connects` counts logins; the resync runs after the login, in the event consumer,
        # and takes two AMI round trips more: wait for the resync itself, not the login.
        await eventually(
            lambda: cti_stack.bridge.resyncs > resyncs, 15, "the bridge to reconnect and resync"
        )
        assert client.stats.connects > connects
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
        assert row["caller_number"].startswith("1380000"), {
            k: row[k]
            for k in ("linkedid", "disposition", "started_at", "ended_at", "caller_number")
        }


async def _originate_blind(asterisk: AsteriskInstance, i: int) -> str:
    """Originate through a separate, short-lived AMI session (the bridge's link is down)."""
    async with ami_session(asterisk) as other:
        uid = f"tblind{i:02d}x{asterisk.ami_port}"
        await AmiPbxCommands(other).originate(
            "Local/95777@hotline-inbound",
            purpose=OriginatePurpose.OUTBOUND,
            uniqueid=uid,
            context="hotline-test-caller",
            caller_id=f'"盲区{i}" <1380000{i:04d}>',
            variables={"HANGUP_AFTER": "10"},
        )
        return uid
