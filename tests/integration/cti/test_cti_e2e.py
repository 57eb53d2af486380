"""End to end on the real Asterisk 22: the backend's AMI client logs in, a Local-channel
caller dials the hotline, and the call lands in the database with its Linkedid and times."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.harness.cti import CtiStack
from tests.support import eventually

pytestmark = pytest.mark.integration


async def test_given_backend_away_when_caller_dials_and_hangs_up_then_one_call_record(
    cti_stack: CtiStack,
) -> None:
    before = dt.datetime.now(dt.UTC)
    linkedid = await cti_stack.call(caller="13912345678", name="张伟（燃气）", hangup_after=2)

    async def live() -> bool:  # queryable while in progress, before it ends
        row = await cti_stack.call_row(linkedid)
        return row is not None and row["disposition"] == "in_progress"

    await eventually(live, 5, "the live call row")
    row = await cti_stack.wait_ended(linkedid)
    assert row["linkedid"] == linkedid
    assert row["caller_number"] == "13912345678"
    assert row["caller_name"] == "张伟（燃气）"  # multi-byte text intact through AMI
    assert row["dialed_number"] == "95777"
    # No FastAGI server: the dialplan sent the caller to the default queue, where it hung up.
    assert row["self_service_outcome"] == "backend_away"
    assert row["queue"] == "general"
    assert row["disposition"] == "abandoned_queue"
    started, queued, ended = row["started_at"], row["queued_at"], row["ended_at"]
    assert before - dt.timedelta(seconds=1) <= started <= queued <= ended
    assert 1.5 <= (ended - started).total_seconds() <= 6
    assert row["wait_seconds"] > 0
    assert await cti_stack.count_calls() == 1
