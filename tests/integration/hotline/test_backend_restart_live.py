"""Must show (issue 11): calls waiting and talking across a restart of the whole backend.

The real Runtime (role "all": bridge, call log, router, IVR on FastAGI, tickets, live
view, HTTP) runs against the sandbox Asterisk; callers go through the real IVR, agents
are Local channels that answer. With two callers talking to agents, three waiting, a
pending callback and a ticket, the backend stops; meanwhile one waiting caller hangs up
and a new one arrives (the dialplan queues it without the IVR). A new Runtime starts:

- as soon as it has reconciled with Asterisk, the live view (GET /api/supervisor/live,
  what the wallboard shows) lists per queue exactly the callers Asterisk holds
  (QueueStatus), never the one who hung up, and counts the pending callback and today's
  ticket as the database and the day report do;
- the router has each waiting caller back with its queue, priority, language, customer
  and place in line, the agents still talking are on their calls (offered nothing
  else), the pending callback is in line again;
- then routing goes on: a freed agent takes the best waiting caller, a talking call
  that ends sends its agent to wrap-up (call.wrapped), and the next caller follows.
On SQLite with the in-process bus, and on PostgreSQL with the Redis Streams bus.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from db.engine import async_session_factory, make_async_engine
from db.models import Call, Disposition, metadata
from devtools.services.asterisk import AsteriskInstance
from hotline.services import Services
from kernel.bus.memory import MemoryBus
from reports.intervals import Interval, ReportRange
from reports.service import ReportService
from reports.sql import ReportQuery
from tests.integration.hotline.support import (
    AsteriskSide,
    Backend,
    add_staff,
    asterisk_side,
    backend,
    fresh_redis,
    restart_settings,
)
from tests.integration.ivr.support import seed_ivr_customers
from tests.ivr_scenarios import LI, ZHANG, ZHANG_PHONE
from tests.support import eventually

pytestmark = pytest.mark.integration
AGENTS = {"1001": {"business": 8}, "1002": {"complaint": 8}, "1003": {"general": 5, "business": 3}}
LI_PHONE = "13900000002"
CALLBACKS = metadata.tables["callback_requests"]
TICKETS = metadata.tables["tickets"]
KEPT = ("queue", "kind", "priority", "language", "customer_id", "tier")  # across the restart


async def on_call(b: Backend, extension: str, linkedid: str, what: str) -> None:
    async def there() -> bool:
        agent = await b.agent(extension)
        return bool(agent["state"] == "on_call" and agent["linkedid"] == linkedid)

    await eventually(there, 30, f"agent {extension} on {what}")


async def first_life(b: Backend, ast: AsteriskSide) -> dict[str, Any]:
    """Two callers talking, three waiting, a callback and a ticket; returns the calls and
    the router's line as it stands before the stop."""
    for ext in ("1001", "1002"):
        await b.post("/api/agent/sign-in", f"agent{ext}", {"ready": True})
    await b.post("/api/agent/sign-in", "agent1003", {"ready": False})
    calls = {"a": await ast.call("13700000001", "ww5")}  # business
    await on_call(b, "1001", calls["a"], "caller a")
    calls["b"] = await ast.call(LI_PHONE, "ww6")  # complaint, in English
    await on_call(b, "1002", calls["b"], "caller b")
    calls["c"] = await ast.call(ZHANG_PHONE, "ww0")  # the operator: general, tier A
    calls["d"] = await ast.call("13700000004", "ww5")
    calls["e"] = await ast.call("13700000005", "ww6")
    calls["f"] = await ast.call("13700000006", "ww4")  # call me back

    async def lined_up() -> bool:
        line = (await b.board())["calls"]
        waiting = {w["call_id"] for w in line if w["kind"] == "live"}
        return waiting == {calls[k] for k in "cde"} and any(w["kind"] == "callback" for w in line)

    await eventually(lined_up, 60, "three callers waiting and a callback in line")
    await b.post(
        "/api/tickets",
        "agent1001",
        {"category": "inquiry", "subject": "过户咨询 / change of owner", "linkedid": calls["a"]},
    )
    return {"calls": calls, "line": (await b.board())["calls"], "stopped_at": time.time()}


async def live_synced(b: Backend) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Snapshots from the restart until the live view has reconciled with Asterisk."""
    seen: list[dict[str, Any]] = []

    async def synced() -> bool:
        seen.append(await b.get("/api/supervisor/live"))
        return seen[-1]["pbx_synced_at"] is not None

    await eventually(synced, 20, "the live view reconciled with Asterisk")
    return seen[-1], seen


async def database_counts(b: Backend) -> tuple[int, int, int]:
    """Pending callbacks, today's tickets (SQL), today's tickets (the day report)."""
    s = b.services.settings
    async with b.services.engine.connect() as conn:
        pending = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(CALLBACKS)
            .where(CALLBACKS.c.state.in_(["pending", "dialing", "retry_wait"]))
        )
        tickets = await conn.scalar(sa.select(sa.func.count()).select_from(TICKETS))
    today = dt.datetime.now(ZoneInfo(s.center.timezone)).date()
    report = await ReportService(b.services.engine, s).run(
        ReportQuery(ReportRange(today, today, s.center.timezone), Interval.DAY)
    )
    (row,) = report.rows()
    return int(pending or 0), int(tickets or 0), row.metrics.tickets


async def test_given_calls_across_a_backend_restart_then_live_view_equals_asterisk_and_routing_goes_on(
    asterisk: AsteriskInstance, db_url: str, db_backend: str, request: pytest.FixtureRequest
) -> None:
    # One machine (SQLite, in-process bus) and the scale-out set-up (PostgreSQL, Redis).
    env = {}
    if db_backend == "postgresql":
        env["HOTLINE_REDIS__URL"] = await fresh_redis(request.getfixturevalue("redis_url"))
    settings = restart_settings(asterisk, db_url, **env)
    engine = make_async_engine(db_url)
    setup = Services(settings, MemoryBus(), engine, async_session_factory(engine))
    try:
        staff = await add_staff(setup, AGENTS)
        customers = await seed_ivr_customers(
            setup.sessions, {ZHANG: [(ZHANG_PHONE, True)], LI: [(LI_PHONE, True)]}
        )
        async with asterisk_side(asterisk, settings) as ast:
            async with backend(settings) as first:
                before = await first_life(first, ast)
            calls = before["calls"]
            await while_away(ast, calls)
            async with backend(settings) as second:
                events = await second.services.bus.subscribe("call")
                try:
                    snapshot = await live_view_equals_asterisk(second, ast, calls)
                    await router_restored(second, before, customers[ZHANG.id])
                    live_agents = {a["extension"]: a for a in snapshot["agents"]}
                    assert (live_agents["1001"]["state"], live_agents["1001"]["call_id"]) == (
                        "on_call",
                        calls["a"],
                    )
                    await routing_goes_on(second, ast, calls)
                    wrapped = [e for e in await drain(events) if e["type"] == "call.wrapped"]
                    assert (calls["a"], staff["1001"]) in {
                        (e["linkedid"], e["agent_id"]) for e in wrapped
                    }
                    # The live view closed the call with its agent and first answer (its
                    # disposition is the restarted bridge's: cti/tracking/resync.py).
                    assert second.services.features.live is not None
                    live = second.services.features.live.model.calls.get(calls["a"])
                    assert live is not None
                    assert (live.ended, live.agents) == (True, ["1001"])
                    assert live.answered_at is not None
                    assert live.answered_at.timestamp() < before["stopped_at"]
                    await records_across_restart(second, calls, staff, before["stopped_at"])
                finally:
                    await events.close()
    finally:
        await setup.bus.close()
        await engine.dispose()


async def records_across_restart(
    b: Backend, calls: dict[str, str], staff: dict[str, int], stopped_at: float
) -> None:
    """The call log, not only the live view: the call talked across the restart is one
    record closed with its agent and times; the caller answered after the restart has
    that agent (the sequence numbers of a new bridge process are accepted, issue 11); the
    caller who hung up while the backend was away is closed, never left in_progress."""
    table = Call.__table__  # type: ignore[attr-defined]

    async def rows() -> dict[str, dict[str, Any]]:
        async with b.services.engine.connect() as conn:
            found = (await conn.execute(sa.select(table))).all()
        return {r.linkedid: dict(r._mapping) for r in found}

    async def settled() -> bool:
        now = await rows()
        a, c, e = (now.get(calls[k]) for k in "ace")
        return (
            a is not None
            and a["disposition"] == Disposition.ANSWERED
            and c is not None
            and c["agent_id"] == staff["1003"]
            and e is not None
            and e["disposition"] != Disposition.IN_PROGRESS
        )

    await eventually(settled, 20, "the call log caught up with the restart")
    now = await rows()
    a, c, e = (now[calls[k]] for k in "ace")
    async with b.services.engine.connect() as conn:
        records_of_a = (
            await conn.execute(sa.select(sa.func.count()).where(table.c.linkedid == calls["a"]))
        ).scalar_one()
    assert records_of_a == 1
    assert (a["agent_id"], a["agents"]) == (staff["1001"], ["1001"])
    assert a["answered_at"] is not None
    assert a["ended_at"] is not None
    assert as_epoch(a["answered_at"]) < stopped_at < as_epoch(a["ended_at"])
    assert a["talk_seconds"] > 0
    assert c["answered_at"] is not None
    assert as_epoch(c["answered_at"]) > stopped_at
    assert e["ended_at"] is not None


def as_epoch(value: dt.datetime) -> float:
    """A stored time as epoch seconds (SQLite returns naive UTC datetimes)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


async def while_away(ast: AsteriskSide, calls: dict[str, str]) -> None:
    """The backend is stopped: a waiting caller gives up, a new one arrives (the dialplan
    queues it in hold-general without the IVR)."""
    await ast.hang_up(calls["e"])
    calls["g"] = await ast.call("13700000007", "ww0")

    async def g_waits() -> bool:
        return calls["g"] in {lid for lid, _ in (await ast.holding()).get("hold-general", [])}

    await eventually(g_waits, 30, "the new caller in hold-general without the backend")


async def live_view_equals_asterisk(
    b: Backend, ast: AsteriskSide, calls: dict[str, str]
) -> dict[str, Any]:
    """Right after the restart: exactly the callers Asterisk holds (never the one who hung
    up, not even before the resync), pending callbacks and tickets as the database says."""
    snapshot, seen = await live_synced(b)
    holding = await ast.holding()
    assert {lid for entries in holding.values() for lid, _ in entries} == {calls[k] for k in "cdg"}
    queues = {q["queue"]: q for q in snapshot["queues"]}
    for name, q in queues.items():
        entries = holding.get(f"hold-{name}", [])
        assert q["waiting"] == len(entries), name
        if entries:
            longest = max(wait for _, wait in entries)
            assert q["longest_wait_seconds"] == pytest.approx(longest, abs=3), name
    assert snapshot["total"]["waiting"] == 3
    for early in seen:
        assert {q["queue"]: q["waiting"] for q in early["queues"]}["complaint"] == 0
        assert early["total"]["waiting"] <= 3
    pending, tickets, reported = await database_counts(b)
    assert (pending, tickets, reported) == (1, 1, 1)
    assert snapshot["total"]["callbacks_pending"] == pending
    assert queues["general"]["callbacks_pending"] == pending
    assert snapshot["total"]["tickets"] == tickets
    return snapshot


async def router_restored(b: Backend, before: dict[str, Any], customer_id: int) -> None:
    """The same line as before the stop (queue, priority, language, customer, place), the
    new caller behind the tier A one, the agents still on their calls."""
    calls = before["calls"]

    async def restored() -> bool:
        line = (await b.board())["calls"]
        return {w["call_id"] for w in line if w["kind"] == "live"} == {calls[k] for k in "cdg"}

    await eventually(restored, 20, "the waiting callers back in the router")
    await on_call(b, "1001", calls["a"], "caller a after the restart")
    await on_call(b, "1002", calls["b"], "caller b after the restart")
    assert (await b.agent("1003"))["state"] == "not_ready"
    line = (await b.board())["calls"]
    now_line = {w["call_id"]: w for w in line}
    for old in before["line"]:
        if old["call_id"] == calls["e"]:  # hung up while the backend was away
            assert old["call_id"] not in now_line
            continue
        new = (
            now_line[old["call_id"]]
            if old["kind"] == "live"
            else next(w for w in line if w["kind"] == "callback")
        )
        assert {k: new[k] for k in KEPT} == {k: old[k] for k in KEPT}
        assert new["enqueued_at"] == pytest.approx(old["enqueued_at"], abs=0.01), old
    assert now_line[calls["c"]]["customer_id"] == str(customer_id)
    assert now_line[calls["c"]]["enqueued_at"] < before["stopped_at"]
    assert (now_line[calls["g"]]["queue"], now_line[calls["g"]]["priority"]) == ("general", 0)
    ids = [w["call_id"] for w in line]
    assert ids.index(calls["c"]) < ids.index(calls["g"])  # tier A first


async def routing_goes_on(b: Backend, ast: AsteriskSide, calls: dict[str, str]) -> None:
    """A ready agent takes the best caller; a talking call ends, its agent wraps up and
    takes the next caller."""
    await b.post("/api/agent/ready", "agent1003")
    await on_call(b, "1003", calls["c"], "the tier A caller")
    await ast.hang_up(calls["a"])

    async def wrapping() -> bool:
        return bool((await b.agent("1001"))["state"] == "wrap_up")

    await eventually(wrapping, 20, "agent 1001 in wrap-up after caller a")
    await b.post("/api/agent/wrap-up", "agent1001", {"code": None})
    await on_call(b, "1001", calls["d"], "the next business caller")


async def drain(sub: Any) -> list[dict[str, Any]]:
    """What the subscription holds now."""
    out: list[dict[str, Any]] = []
    while True:
        try:
            out.append((await sub.get(timeout=0.05)).data)
        except TimeoutError:
            return out
