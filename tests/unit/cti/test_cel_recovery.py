"""On resync, calls the bridge did not see end are written once: from CEL, or closed as
unobserved. Fakes for the call log and the CEL store (their SQL is tested against real
databases in tests/integration/cti/test_calllog_*.py)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Collection
from dataclasses import replace
from typing import Any

import pytest

from cti.cel.record import CelRow
from cti.cel.recovery import FROM_CEL, UNOBSERVED, RecoverySettings, advance_cursor, recover
from cti.cel.store import CelUnavailable
from cti.sequence import SPAN, compose
from cti.tracking.tracker import CallTracker
from tests.unit.cti.cel_scenario import T0, fixture
from tests.unit.cti.scenario import run

NOW = T0 + 3600
STORE = "sqlite:////var/log/asterisk/hotline-cel.db"


class FakeHistory:
    def __init__(self, rows: dict[str, dict[str, Any]], cursor: tuple[str, int] | None) -> None:
        self.rows = rows
        self.saved = cursor

    async def open_calls(self, started_before: float) -> dict[str, dict[str, Any]]:
        return {
            k: v
            for k, v in self.rows.items()
            if v["disposition"] == "in_progress" and v["started_at"] < started_before
        }

    async def calls(self, linkedids: Collection[str]) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.rows.items() if k in linkedids}

    async def logged(self, linkedids: Collection[str]) -> set[str]:
        return set(self.rows) & set(linkedids)

    async def cursor(self) -> tuple[str, int] | None:
        return self.saved

    async def save_cursor(self, store: str, last_id: int) -> None:
        self.saved = (store, last_id)


class FakeStore:
    identity = STORE

    def __init__(self, rows: list[CelRow], broken: bool = False) -> None:
        self.rows, self.broken = rows, broken

    async def last_id(self) -> int:
        return max((r.id for r in self.rows), default=0)

    async def rows_after(self, last_id: int, limit: int) -> list[CelRow]:
        if self.broken:
            raise CelUnavailable("gone")
        return [r for r in self.rows if r.id > last_id][:limit]

    async def rows_for(self, linkedids: list[str], after_id: int) -> list[CelRow]:
        return [r for r in self.rows if r.linkedid in linkedids and r.id > after_id]

    async def close(self) -> None:
        return None


def cel(*names: str, first_id: int = 101) -> list[CelRow]:
    """Fixture calls one after another, renumbered from first_id, all before NOW."""
    rows: list[CelRow] = []
    for n, name in enumerate(names):
        for r in fixture(name):
            rows.append(replace(r, id=first_id + len(rows), eventtime=r.eventtime + n * 60))
    return rows


def open_row(call_id: str, **extra: Any) -> dict[str, Any]:
    return {"call_id": call_id, "started_at": T0 - 50, "disposition": "in_progress", **extra}


def tracker() -> CallTracker:
    t = CallTracker()
    t.begin_session(NOW)
    return t


async def test_given_the_first_start_then_the_past_is_not_imported_and_the_cursor_is_set() -> None:
    history = FakeHistory({}, None)
    events, report = await recover(tracker(), history, FakeStore(cel("answered")), NOW)
    assert events == []
    assert history.saved == (STORE, 125)
    assert report.new_from_cel == 0


async def test_given_calls_that_began_and_ended_while_away_then_each_is_written_once() -> None:
    t = tracker()
    history = FakeHistory({}, (STORE, 100))
    events, report = await recover(t, history, FakeStore(cel("answered", "backendaway")), NOW)
    assert [(e["call_id"], e["recovered"]) for e in events] == [
        ("fx-answered", FROM_CEL),
        ("fx-backendaway", FROM_CEL),
    ]
    assert {e["type"] for e in events} == {"call.ended"}
    assert all(e["seq"] == compose(t.generation, SPAN - 1) for e in events)
    assert events[0]["call"]["agent"] == "1002"
    assert events[0]["at"] == events[0]["call"]["ended_at"]
    assert report.new_from_cel == 2
    assert history.saved == (STORE, 100)  # held back until the log holds them

    history.rows = {e["call_id"]: {**e["call"], "disposition": "answered"} for e in events}
    again, report = await recover(t, history, FakeStore(cel("answered", "backendaway")), NOW)
    assert again == []
    assert history.saved == (STORE, 101 + 25 + 12 - 1)


async def test_given_a_call_the_tracker_follows_or_saw_end_then_it_is_left_to_the_tracker() -> None:
    t = tracker()
    run("0 Newchannel fx-answered fx-answered CallerIDNum=1", t)
    events, _ = await recover(t, FakeHistory({}, (STORE, 100)), FakeStore(cel("answered")), NOW)
    assert events == []


async def test_given_only_the_tail_of_an_unknown_call_then_it_is_not_hotline_s_to_invent() -> None:
    tail = [r for r in cel("answered") if r.id > 110]
    events, _ = await recover(tracker(), FakeHistory({}, (STORE, 110)), FakeStore(tail), NOW)
    assert events == []


async def test_given_an_open_row_then_cel_closes_it_and_the_row_s_ivr_facts_stay() -> None:
    row = open_row(
        "fx-answered",
        ivr_path=["main", "fault"],
        customer_id="77",
        tier="A",
        priority=50,
        skill="repair",
        caller_number="13900000001",
        started_at=T0 - 1,
    )
    history = FakeHistory({"fx-answered": row}, (STORE, 110))  # the call began before
    events, report = await recover(tracker(), history, FakeStore(cel("answered")), NOW)
    (event,) = events
    snap = event["call"]
    assert (report.closed_from_cel, report.unobserved) == (1, 0)
    assert snap["disposition"] == "answered"
    assert (snap["agent"], snap["ended_at"]) == ("1002", fixture("answered")[-1].eventtime)
    assert (snap["ivr_path"], snap["customer_id"], snap["tier"], snap["priority"]) == (
        ["main", "fault"],
        "77",
        "A",
        50,
    )
    assert snap["started_at"] == T0 - 1


async def test_given_open_rows_without_cel_then_they_close_unobserved_but_not_twilio_or_new() -> (
    None
):
    rows = {
        "1796000000.5": open_row("1796000000.5", skill="billing"),
        "CA1f3e": open_row("CA1f3e"),  # a Twilio call: not Asterisk's
        "1796003600.9": open_row("1796003600.9", started_at=NOW + 1),  # after the snapshot
        "1796000001.1": {**open_row("1796000001.1"), "disposition": "answered"},
    }
    history = FakeHistory(rows, None)
    events, report = await recover(tracker(), history, None, NOW)
    (event,) = events
    assert (event["call_id"], event["recovered"]) == ("1796000000.5", UNOBSERVED)
    assert event["call"]["disposition"] == "ended_unobserved"
    assert event["call"]["ended_at"] == NOW
    assert event["call"]["skill"] == "billing"
    assert report.unobserved == 1
    assert history.saved is None  # no CEL store: no cursor


async def test_given_the_cel_store_unreadable_then_rows_still_close_and_the_cursor_waits() -> None:
    history = FakeHistory({"1796000000.5": open_row("1796000000.5")}, (STORE, 100))
    events, report = await recover(tracker(), history, FakeStore(cel("answered"), broken=True), NOW)
    assert [e["recovered"] for e in events] == [UNOBSERVED]
    assert report.cel_error is not None
    assert history.saved == (STORE, 100)


async def test_given_a_row_closed_unobserved_earlier_then_cel_read_later_completes_it() -> None:
    row = {**open_row("fx-backendaway"), "disposition": "ended_unobserved"}
    history = FakeHistory({"fx-backendaway": row}, (STORE, 100))
    events, report = await recover(tracker(), history, FakeStore(cel("backendaway")), NOW)
    assert report.closed_from_cel == 1
    assert events[0]["call"]["disposition"] == "abandoned_queue"


async def test_given_recent_rows_then_the_cursor_stays_behind_by_the_margin() -> None:
    rows = cel("ivrhangup")
    history = FakeHistory(
        {"fx-ivrhangup": {**open_row("x"), "disposition": "abandoned_ivr"}}, (STORE, 100)
    )
    now = rows[-1].eventtime + 10
    await recover(tracker(), history, FakeStore(rows), now, RecoverySettings(margin_seconds=30))
    assert history.saved == (STORE, 100)
    await recover(
        tracker(), history, FakeStore(rows), now + 30, RecoverySettings(margin_seconds=30)
    )
    assert history.saved == (STORE, rows[-1].id)


@pytest.mark.parametrize("batch", [1, 5, 2_000])
async def test_given_the_bridge_stayed_connected_then_the_cursor_moves_over_what_it_saw(
    batch: int,
) -> None:
    settings = RecoverySettings(cursor_batch=batch)
    rows = cel("answered", "backendaway")
    t = tracker()
    run("0 Newchannel fx-answered fx-answered CallerIDNum=1", t)  # seen live
    history = FakeHistory({}, (STORE, 100))
    late = rows[-1].eventtime + 60
    # fx-backendaway is in neither the tracker nor the log: a recovery not yet written.
    assert await advance_cursor(t, history, FakeStore(rows), late, settings) == 125
    history.rows["fx-backendaway"] = {"disposition": "abandoned_queue"}
    assert await advance_cursor(t, history, FakeStore(rows), late, settings) == rows[-1].id
    assert await advance_cursor(t, history, FakeStore(rows), late, settings) is None
    assert history.saved == (STORE, rows[-1].id)


class GeneratedStore(FakeStore):
    """`calls` ended calls of `per_call` rows each, made as they are read (not held)."""

    def __init__(self, calls: int, per_call: int) -> None:
        super().__init__([])
        self.total, self.per_call = calls * per_call, per_call

    async def rows_after(self, last_id: int, limit: int) -> list[CelRow]:
        return [self._row(i) for i in range(last_id + 1, min(last_id + limit, self.total) + 1)]

    def _row(self, i: int) -> CelRow:
        call, step = divmod(i - 1, self.per_call)
        kind = "LINKEDID_END" if step == self.per_call - 1 else "CHAN_START"
        linkedid = f"1733000000.{call}"
        return CelRow(
            id=i, eventtype=kind, eventtime=T0 + i * 0.01, uniqueid=f"{linkedid}-{step % 4}",
            linkedid=linkedid, channame=f"PJSIP/agent-{call:08x}", appname="AGI",
            appdata="agi://127.0.0.1:4573/hotline,lang=zh", extra='{"hangupcause":16}',
        )  # fmt: skip


async def test_given_a_busy_node_then_the_cursor_pass_does_not_hold_its_rows() -> None:
    # 100,000 rows (5 minutes of a busy node): every call logged, so the cursor moves to
    # the end; the pass keeps a span per call (6 MB), not the rows (48 MB at once before).
    store = GeneratedStore(calls=5_000, per_call=20)
    history = FakeHistory({f"1733000000.{c}": {} for c in range(5_000)}, (STORE, 0))
    tracemalloc.start()
    try:
        moved = await advance_cursor(CallTracker(), history, store, T0 + 10_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert moved == store.total
    assert peak < 12_000_000, f"peak {peak / 1e6:.1f} MB"
