"""Must show (issue 8): after a scripted run of 200 mixed calls (answered, with hold,
abandoned short and long, transferred, callbacks), the live counters, the day report and
the call records agree with each other and with the script.

The calls are AMI frame sequences run through the real CallTracker; its domain events
go over the bus to the real CallLogWriter (SQLite and PostgreSQL) and the real
LiveService; wrap-ups arrive as call.wrapped events, as the router sends them. Then the
live snapshot, reports.service.ReportService's day report by queue and plain SQL over
the calls table are compared, and a restarted LiveService (reading today's rows) shows
the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from cti.calllog.writer import CALLS, CallLogWriter
from cti.tracking.tracker import CallTracker
from db.models import Role
from hotline.services import Services
from kernel.clock import FakeClock
from reports.intervals import Interval, ReportRange
from reports.service import ReportService
from reports.sql import Dimension, ReportQuery
from supervisor.live_service import LiveService, snapshot_from_db
from tests.harness.http_app import add_user, api_services
from tests.integration.supervisor.live_calls_script import QUEUES, Script, mixed_calls
from tests.support import eventually

pytestmark = pytest.mark.integration

DAY = dt.date(2026, 3, 2)
ZONE = ZoneInfo("Asia/Shanghai")
MORNING = dt.datetime(2026, 3, 2, 8, 0, tzinfo=ZONE).timestamp()
NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=ZONE).timestamp()
# What the three must agree on (reports/metrics.py Metrics fields).
COMPARED = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "callbacks",
    "overflowed",
    "transfers",
    "service_level",
    "service_level_offered",
    "abandon_rate",
    "asa_seconds",
    "aht_seconds",
)


@pytest.fixture
async def services(db_url: str) -> AsyncIterator[Services]:
    async with api_services(db_url, clock=FakeClock(NOON)) as services:
        assert services.settings.center.timezone == "Asia/Shanghai"
        for n in range(1, 5):
            await add_user(services, f"agent{n:02d}", Role.AGENT, f"100{n}")
        yield services


async def play(services: Services, script: Script, writer: CallLogWriter) -> int:
    """Frames -> tracker -> bus; returns how many events carried a call snapshot."""
    tracker = CallTracker()
    with_snapshot = 0
    for frame in script.frames:
        for event in tracker.handle(frame):
            await services.bus.publish("call", dict(event))
            with_snapshot += 1
            linkedid = str(event["call_id"])
            if event["type"] == "call.ended" and linkedid in script.wraps:
                await services.bus.publish(
                    "call",
                    {
                        "type": "call.wrapped",
                        "linkedid": linkedid,
                        "wrap_seconds": script.wraps[linkedid],
                        "wrap_code": "resolved",
                        "agent_id": None,
                        "at": float(frame["Timestamp"]) + script.wraps[linkedid],
                    },
                )
    assert tracker.calls == {}, "every scripted call must have ended"
    return with_snapshot


async def sql_counts(services: Services) -> dict[str, Counter[str]]:
    """Straight SQL over the calls table, written apart from reports/sql.py."""
    c = CALLS.c
    stmt = sa.select(
        c.queue,
        c.disposition,
        c.answered_at.is_not(None),
        c.queued_at.is_not(None),
        c.wait_seconds,
        c.transfers,
    )
    out: dict[str, Counter[str]] = {}
    async with services.sessions() as session:
        rows = (await (await session.connection()).execute(stmt)).all()
    for queue, disposition, answered, queued, wait, transfers in rows:
        counts = out.setdefault(str(queue), Counter())
        disposition = str(getattr(disposition, "value", disposition))
        counts["offered"] += int(queued)
        counts["answered"] += int(answered)
        counts["answered_in_sl"] += int(answered and wait <= (10 if queue == "emergency" else 20))
        counts["transfers"] += transfers
        if disposition == "abandoned_queue":
            counts["short_abandoned" if wait < 5 else "abandoned"] += 1
        counts["callbacks"] += disposition == "callback_requested"
    return out


def live_metrics(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["queue"]: {k: q["metrics"][k] for k in COMPARED} for q in snapshot["queues"]}


async def test_live_counters_day_report_and_call_records_agree_after_200_mixed_calls(
    services: Services,
) -> None:
    script = mixed_calls(MORNING, 200)
    writer = CallLogWriter(services.bus, services.sessions)
    live = LiveService(services, min_interval=0.05)
    await writer.start()
    await live.start()
    try:
        with_snapshot = await play(services, script, writer)
        published = with_snapshot + len(script.wraps)
        await eventually(lambda: writer.applied == with_snapshot, 120, "the call log")
        await eventually(lambda: live.applied == published, 60, "the live view")

        async def wraps_written() -> bool:
            async with services.sessions() as s:
                conn = await s.connection()
                total = (await conn.execute(sa.select(sa.func.sum(CALLS.c.wrap_seconds)))).scalar()
            return float(total or 0) == sum(script.wraps.values())

        await eventually(wraps_written, 60, "wrap-ups in the call log")
        snapshot = live.snapshot()
    finally:
        await live.stop()
        await writer.stop()

    # 1. The call records hold what the script did.
    records = await sql_counts(services)
    assert sum(c["offered"] for c in records.values()) == 200
    for queue in QUEUES:
        expected = script.expected[queue]
        assert {k: records[queue][k] for k in expected} == dict(expected), queue

    # 2. The live counters equal the records...
    live_by_queue = live_metrics(snapshot)
    for queue in QUEUES:
        m, expected = live_by_queue[queue], records[queue]
        for name in ("offered", "answered", "abandoned", "short_abandoned", "callbacks"):
            assert m[name] == expected[name], (queue, name)
        assert m["transfers"] == expected["transfers"]
        assert m["service_level"] == round(expected["answered_in_sl"] / expected["answered"], 4)
        assert m["service_level_offered"] == round(
            expected["answered_in_sl"] / (expected["answered"] + expected["abandoned"]), 4
        )
    assert snapshot["total"]["offered"] == 200
    assert snapshot["total"]["waiting"] == 0

    # 3. ... and the day report, metric for metric (ASA and AHT included).
    report = await ReportService(services.engine, services.settings).run(
        ReportQuery(ReportRange(DAY, DAY, "Asia/Shanghai"), Interval.DAY, Dimension.QUEUE)
    )
    by_queue = {row.key: row.metrics.as_dict() for row in report.rows()}
    assert set(by_queue) == set(QUEUES)
    for queue in QUEUES:
        assert {k: by_queue[queue][k] for k in COMPARED} == live_by_queue[queue], queue
        assert live_by_queue[queue]["aht_seconds"] is not None
    total = await ReportService(services.engine, services.settings).run(
        ReportQuery(ReportRange(DAY, DAY, "Asia/Shanghai"), Interval.DAY)
    )
    (row,) = total.rows()
    assert {k: row.metrics.as_dict()[k] for k in COMPARED} == {
        k: snapshot["total"][k] for k in COMPARED
    }

    # 4. Handled per agent: calls each extension answered (any leg), as in calls.agents.
    async with services.sessions() as s:
        rows = (await (await s.connection()).execute(sa.select(CALLS.c.agents))).all()
    handled: Counter[str] = Counter(ext for (agents,) in rows for ext in set(agents))
    assert {a["extension"]: a["handled"] for a in snapshot["agents"]} == dict(handled)

    # 5. A restart reads today's rows and shows the same numbers; so does the snapshot
    # GET /api/supervisor/live reads from the database where no live service runs.
    again = LiveService(services)
    await again.start()
    try:
        assert live_metrics(again.snapshot()) == live_by_queue
    finally:
        await again.stop()
    assert live_metrics(await snapshot_from_db(services)) == live_by_queue
