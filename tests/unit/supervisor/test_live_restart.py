"""The live view after a restart (supervisor/live_calls.py, live_model.py): rows read from
the database against what Asterisk has, a restarted bridge counting seq from 1 again,
and what only the database counts (tickets, surveys, pending callbacks)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from reports.metrics import Aggregates
from supervisor.live_model import DbCounts, LiveModel
from tests.unit.supervisor.test_live_model import CONFIG, NOW, T, billing, event, snap

TWILIO = "CA" + "0" * 32


def at(t: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, dt.UTC)


def row(seq: int, **times: float) -> dict[str, Any]:
    """A calls row in progress: started at T, queued at T + 3, the given times after T."""
    return {
        "started_at": at(T),
        "queue": "billing",
        "queued_at": at(T + 3),
        "answered_at": at(T + times["answered"]) if "answered" in times else None,
        "disposition": "in_progress",
        "wait_seconds": times.get("answered", 3) - 3 if "answered" in times else 0.0,
        "caller_number": "13800138000",
        "agents": ["1001"] if "answered" in times else [],
        "last_seq": seq,
    }


def restarted(*ids: str) -> LiveModel:
    """A model that read three calls in progress (two waiting, one on an agent) and a
    Twilio caller from the database, as a LiveService does after a restart."""
    m = LiveModel(CONFIG, NOW)
    m.load_calls(
        [
            ("waiting", row(8)),
            ("gone", row(8)),  # hung up while the backend was away
            ("talking", row(9, answered=20)),
            (TWILIO, row(4)),
        ]
    )
    m.agents.describe(1, extension="1001", name=None, skills={"billing": 5})
    return m


def test_rows_wait_for_the_resync_then_only_calls_asterisk_has_are_shown() -> None:
    m = restarted()
    m.awaiting_pbx = True  # a bridge runs in this process and has not resynced yet
    assert billing(m)["waiting"] == 1  # the Twilio caller: not Asterisk's to confirm
    assert m.snapshot(NOW)["agents"][0]["call_id"] is None
    offered = billing(m)["metrics"]["offered"]
    assert m.snapshot(NOW)["pbx_synced_at"] is None

    lost = m.reconcile({"waiting", "talking"}, NOW)
    assert lost == ["gone"]
    q = billing(m)
    assert q["waiting"] == 2  # "waiting" and the Twilio caller, never "gone"
    assert q["longest_wait_seconds"] == round(NOW - T - 3, 1)
    assert m.snapshot(NOW)["agents"][0]["call_id"] == "talking"
    assert q["metrics"]["offered"] == offered  # counted as its row is, until the log closes it
    assert m.snapshot(NOW)["pbx_synced_at"] == NOW
    assert [a["kind"] for a in m.tick(NOW)] == ["long_wait", "long_wait"]  # no ghost alert


def test_without_a_bridge_here_rows_show_until_a_resync_says_otherwise() -> None:
    m = restarted()
    assert billing(m)["waiting"] == 3  # an API-only process trusts the call log
    m.apply("call", event("gone", 9, "ended", snap(T, queued_at=3, ended_at=60)), NOW)
    assert billing(m)["waiting"] == 2


def test_a_restarted_bridge_counts_seq_from_one_and_keeps_what_the_row_knew() -> None:
    m = restarted()
    m.reconcile({"waiting", "talking", "gone"}, NOW)
    # The new bridge finds the calls in Asterisk: call.started (seq 1) rebuilt from the
    # channel list, without the queue entry the row has.
    rebuilt = snap(T + 1, skill=None)
    m.apply("call", event("waiting", 1, "started", rebuilt), NOW)
    m.apply("call", event("talking", 1, "started", rebuilt), NOW)
    q = billing(m)
    assert (q["waiting"], q["metrics"]["offered"]) == (3, 4)
    # ... then the caller is answered after the restart (seq 2 < the row's 8).
    answered = snap(T + 1, skill=None, answered_at=59, agent="1002", agents=["1002"])
    m.apply("call", event("waiting", 2, "answered", answered), NOW)
    q = billing(m)
    assert (q["waiting"], q["metrics"]["answered"]) == (2, 2)
    entry = m.calls.calls["waiting"]  # still in progress
    assert (entry.queued_at, entry.facts.started_at) == (at(T + 3), at(T))
    assert entry.facts.wait_seconds == 57.0  # from the first queue entry
    # A talking call ends: its first answer and agent are kept.
    ended = snap(T + 1, skill=None, answered_at=40, ended_at=100, agent="1001", agents=["1001"])
    ended["disposition"] = "answered"
    m.apply("call", event("talking", 2, "ended", ended), NOW)
    ended_entry = m.calls.get("talking")  # ended: read back from the packed store
    assert ended_entry is not None
    entry = ended_entry
    assert (entry.ended, entry.answered_at, entry.agents) == (True, at(T + 20), ["1001"])
    assert entry.facts.wait_seconds == 17.0
    # An older event of the same generation still changes nothing.
    m.apply("call", event("talking", 1, "answered", answered), NOW)
    assert (e := m.calls.get("talking")) is not None
    assert e.ended


def test_database_counts_add_tickets_surveys_and_pending_callbacks() -> None:
    m = restarted()
    m.set_counts(
        DbCounts(
            total=Aggregates(tickets=3, surveys_rated=2, rating_sum=9, surveys_satisfied=2),
            by_queue={"billing": Aggregates(surveys_rated=1, rating_sum=5, surveys_satisfied=1)},
            callbacks_pending={"billing": 4, "repair": 1},
        )
    )
    s = m.snapshot(NOW)
    assert (s["total"]["tickets"], s["total"]["surveys"], s["total"]["survey_average"]) == (
        3,
        2,
        4.5,
    )
    assert s["total"]["callbacks_pending"] == 5
    queues = {q["queue"]: q for q in s["queues"]}
    assert queues["billing"]["callbacks_pending"] == 4
    assert queues["billing"]["metrics"]["surveys"] == 1
    assert queues["repair"]["metrics"]["surveys"] == 0
    m.tick(NOW + 86400)  # a new day: no ticket yet, the callbacks still to make
    s = m.snapshot(NOW + 86400)
    assert (s["total"]["tickets"], s["total"]["callbacks_pending"]) == (0, 5)
