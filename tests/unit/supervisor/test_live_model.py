"""The pure live view (supervisor/live_model.py): counters, agents, alerts, day rollover."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from reports.metrics import Thresholds
from supervisor.live_agents import Stretch
from supervisor.live_alerts import addressed_to
from supervisor.live_model import LiveConfig, LiveModel, QueueInfo

ZONE = "Asia/Shanghai"
# 2026-03-02 10:00 in Shanghai (02:00 UTC): the local day began at 2026-03-01 16:00 UTC.
NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC).timestamp()
MIDNIGHT = dt.datetime(2026, 3, 1, 16, 0, tzinfo=dt.UTC).timestamp()
QUEUES = (
    QueueInfo("billing", "billing", {"zh": "账务", "en": "Billing"}, 80, 20),
    QueueInfo("repair", "repair", {"zh": "报修", "en": "Repair"}, 90, 10),
)
CONFIG = LiveConfig(
    thresholds=Thresholds(
        short_abandon_seconds=5, service_seconds=(("billing", 20.0), ("repair", 10.0))
    ),
    queues=QUEUES,
    timezone=ZONE,
    wait_alert_seconds=60,
    sl_alert_min_calls=2,
)


def snap(t: float, **fields: Any) -> dict[str, Any]:
    """A tracker snapshot: started at t, the given times as offsets from t."""
    out: dict[str, Any] = {
        "started_at": t,
        "caller_number": "13800138000",
        "skill": "billing",
        "agents": [],
        "disposition": "in_progress",
    }
    for name in ("queued_at", "answered_at", "ended_at"):
        if name in fields:
            fields[name] = t + fields[name]
    out.update(fields)
    return out


def event(call_id: str, seq: int, kind: str, call: dict[str, Any]) -> dict[str, Any]:
    return {"type": f"call.{kind}", "call_id": call_id, "seq": seq, "at": NOW, "call": call}


def answered(cid: str, t: float, wait: float, talk: float, **extra: Any) -> dict[str, Any]:
    return event(
        cid,
        9,
        "ended",
        snap(
            t,
            queued_at=3,
            answered_at=3 + wait,
            ended_at=3 + wait + talk,
            wait_seconds=wait,
            talk_seconds=talk,
            agent="1001",
            agents=["1001"],
            disposition="answered",
            **extra,
        ),
    )


def abandoned(cid: str, t: float, wait: float) -> dict[str, Any]:
    return event(
        cid,
        5,
        "ended",
        snap(t, queued_at=3, ended_at=3 + wait, wait_seconds=wait, disposition="abandoned_queue"),
    )


def model(*events: tuple[str, dict[str, Any]]) -> LiveModel:
    m = LiveModel(CONFIG, NOW)
    for topic, e in events:
        m.apply(topic, e, NOW)
    return m


def billing(m: LiveModel) -> dict[str, Any]:
    queues: dict[str, Any] = {q["queue"]: q for q in m.snapshot(NOW)["queues"]}
    return dict(queues["billing"])


T = NOW - 3600  # an hour ago, today


@pytest.mark.parametrize(
    ("calls", "expected"),
    [
        ([], {"offered": 0, "answered": 0, "service_level": None, "asa_seconds": None}),
        (
            [answered("a", T, 10, 100), answered("b", T, 30, 50)],
            {
                "offered": 2,
                "answered": 2,
                "service_level": 0.5,
                "service_level_offered": 0.5,
                "asa_seconds": 20.0,
                "aht_seconds": 75.0,
            },
        ),
        (
            [answered("a", T, 10, 100), abandoned("b", T, 4.9), abandoned("c", T, 30)],
            {
                "offered": 3,
                "answered": 1,
                "abandoned": 1,
                "short_abandoned": 1,
                "service_level": 1.0,
                "service_level_offered": 0.5,
                "abandon_rate": 0.5,
            },
        ),
        (
            [answered("a", T, 5, 60, hold_seconds=20.0, transfers=1)],
            {"aht_seconds": 80.0, "transfers": 1},
        ),
        (
            [event("cb", 4, "ended", snap(T, disposition="callback_requested"))],
            {"offered": 0, "callbacks": 1},
        ),
        (  # started yesterday (local): not today's
            [answered("y", MIDNIGHT - 60, 5, 60)],
            {"offered": 0, "answered": 0},
        ),
        (  # in progress, waiting: offered already (the call log row says queued)
            [event("w", 3, "queued", snap(T, queued_at=3))],
            {"offered": 1, "answered": 0},
        ),
    ],
)
def test_queue_counters_follow_the_report_definitions(
    calls: list[dict[str, Any]], expected: dict[str, Any]
) -> None:
    m = model(*(("call", c) for c in calls))
    metrics = billing(m)["metrics"]
    assert {k: metrics[k] for k in expected} == expected


def test_redelivered_or_older_events_change_nothing() -> None:
    m = model(("call", answered("a", T, 10, 100)))
    older = event("a", 3, "queued", snap(T, queued_at=3))
    m.apply("call", older, NOW)
    m.apply("call", answered("a", T, 10, 100), NOW)  # the same seq again
    assert billing(m)["metrics"]["answered"] == 1
    assert billing(m)["waiting"] == 0


@pytest.mark.parametrize("wrap_first", [False, True])
def test_wrap_up_counts_in_aht_whether_it_arrives_before_or_after_the_end(
    wrap_first: bool,
) -> None:
    wrapped = {"type": "call.wrapped", "linkedid": "a", "wrap_seconds": 20.0, "agent_id": 7}
    order = [wrapped, answered("a", T, 10, 100)]
    m = model(*(("call", e) for e in (order if wrap_first else order[::-1])))
    assert billing(m)["metrics"]["aht_seconds"] == 120.0
    m.apply("call", wrapped, NOW)  # redelivered: set, not added
    assert billing(m)["metrics"]["aht_seconds"] == 120.0


def test_waiting_calls_and_longest_wait_then_answered() -> None:
    m = model(
        ("call", event("w1", 3, "queued", snap(NOW - 100, queued_at=10))),
        ("call", event("w2", 3, "queued", snap(NOW - 30, queued_at=0))),
        ("call", event("r1", 3, "queued", snap(NOW - 50, queued_at=0, skill="repair"))),
    )
    q = billing(m)
    assert (q["waiting"], q["longest_wait_seconds"]) == (2, 90.0)
    m.apply("call", event("w1", 4, "answered", snap(NOW - 100, queued_at=10, answered_at=95)), NOW)
    assert (billing(m)["waiting"], billing(m)["longest_wait_seconds"]) == (1, 30.0)
    assert m.snapshot(NOW)["total"]["waiting"] == 2


def agent_event(agent_id: int, ext: str, state: str, at: float, reason: str | None = None) -> Any:
    return (
        "agent",
        {
            "type": "agent.state",
            "agent_id": agent_id,
            "extension": ext,
            "state": state,
            "reason": reason,
            "at": at,
        },
    )


def test_agents_by_state_time_in_state_handled_and_current_caller() -> None:
    m = model(
        agent_event(1, "1001", "available", NOW - 600),
        agent_event(2, "1002", "not_ready", NOW - 60, "lunch"),
        agent_event(3, "1003", "not_ready", NOW - 60, "break"),
        agent_event(4, "1004", "available", NOW - 60),
        agent_event(1, "1001", "on_call", NOW - 100),
        agent_event(4, "1004", "wrap_up", NOW - 5),
        ("call", answered("done", T, 5, 60)),  # 1001 answered it earlier
        (
            "call",
            event(
                "live",
                4,
                "answered",
                snap(NOW - 120, queued_at=0, answered_at=20, agent="1001", agents=["1001"]),
            ),
        ),
    )
    for a, skills in ((1, {"billing": 5}), (2, {"billing": 3}), (3, {"repair": 3})):
        m.agents.describe(a, extension=None, name=f"坐席{a}", skills=skills)
    m.agents.describe(4, extension=None, name=None, skills={"billing": 1})
    counts = billing(m)["agents"]
    assert counts == {
        "logged_in": 3,
        "ready": 0,
        "reserved": 0,
        "on_call": 1,
        "wrap_up": 1,
        "not_ready": 1,
        "not_ready_by_reason": {"lunch": 1},
    }
    agents = {a["agent_id"]: a for a in m.snapshot(NOW)["agents"]}
    one = agents[1]
    assert (one["state"], one["seconds_in_state"], one["handled"]) == ("on_call", 100.0, 2)
    assert (one["caller_number"], one["call_id"], one["name"]) == ("13800138000", "live", "坐席1")
    assert agents[2]["caller_number"] is None
    assert m.snapshot(NOW)["agents_total"]["not_ready_by_reason"] == {"lunch": 1, "break": 1}


def test_occupancy_is_busy_over_logged_in_time_today() -> None:
    m = model(
        agent_event(1, "1001", "available", NOW - 400),
        agent_event(1, "1001", "on_call", NOW - 300),
        agent_event(1, "1001", "wrap_up", NOW - 200),
        agent_event(1, "1001", "not_ready", NOW - 100, "break"),
    )
    m.agents.describe(1, extension="1001", name=None, skills={"billing": 5})
    assert billing(m)["metrics"]["occupancy"] == 0.5
    assert m.snapshot(NOW)["total"]["occupancy"] == 0.5


def test_history_after_a_restart_is_clipped_to_today() -> None:
    m = LiveModel(CONFIG, NOW)
    m.load_agents(
        [
            Stretch(1, "on_call", None, MIDNIGHT - 100, MIDNIGHT + 100),  # 100 s today
            Stretch(1, "available", None, MIDNIGHT + 100, MIDNIGHT + 200),
            Stretch(1, "on_call", None, NOW - 100, None),  # open: the current state
        ],
        NOW,
    )
    entry = m.agents.agents[1]
    assert (entry.state, entry.since) == ("on_call", NOW - 100)
    sums = entry.occupancy_sums(NOW, MIDNIGHT)
    assert (sums.busy_seconds, sums.logged_in_seconds) == (200.0, 300.0)


def test_restart_loads_todays_rows_and_later_events_continue_them() -> None:
    started = dt.datetime.fromtimestamp(T, dt.UTC)
    row = {
        "started_at": started,
        "queue": "billing",
        "queued_at": started,
        "answered_at": None,
        "disposition": "in_progress",
        "wait_seconds": 0.0,
        "last_seq": 3,
        "agents": [],
    }
    m = LiveModel(CONFIG, NOW)
    m.load_calls([("a", row)])
    assert billing(m)["waiting"] == 1
    m.apply("call", answered("a", T, 10, 100), NOW)
    assert (billing(m)["waiting"], billing(m)["metrics"]["answered"]) == (0, 1)


def test_day_rolls_over_at_local_midnight_keeping_callers_still_waiting() -> None:
    late = MIDNIGHT + 86400 - 30  # 23:59:30 local
    m = LiveModel(CONFIG, late)
    m.apply("call", answered("a", late - 200, 10, 100), late)
    m.apply("call", event("w", 3, "queued", snap(late - 10, queued_at=0)), late)
    after = late + 60
    m.tick(after)
    q = {x["queue"]: x for x in m.snapshot(after)["queues"]}["billing"]
    assert (q["metrics"]["offered"], q["metrics"]["answered"], q["waiting"]) == (0, 0, 1)
    m.apply("call", abandoned("w", late - 10, 60), after)  # started yesterday: not today's
    q = {x["queue"]: x for x in m.snapshot(after)["queues"]}["billing"]
    assert (q["metrics"]["offered"], q["waiting"]) == (0, 0)
    assert m.calls.get("w") is None
    m.apply("call", event("w", 3, "queued", snap(late - 10, queued_at=0)), after)  # redelivered
    assert m.calls.get("w") is None


def test_alerts_service_level_long_wait_and_ticket_sla() -> None:
    m = model(("call", answered("a", T, 30, 10)), ("call", answered("b", T, 40, 10)))
    m.apply("call", event("w", 3, "queued", snap(NOW - 100, queued_at=0)), NOW)
    raised = m.tick(NOW)
    assert sorted(a["kind"] for a in raised) == ["long_wait", "service_level"]
    assert m.tick(NOW + 1) == []  # once, not on every tick
    sla = {
        "type": "sla.breach",
        "clock": "response",
        "level": 1,
        "ticket": {"id": 9, "number": "T-1", "subject": "燃气泄漏"},
        "at": "2026-03-02T02:00:00+00:00",
        "notify": {"roles": ["supervisor"], "user_ids": [5]},
    }
    (alert,) = m.apply("alert", sla, NOW)
    assert alert["kind"] == "sla.breach"
    assert alert["ticket"]["subject"] == "燃气泄漏"
    assert m.apply("alert", {"type": "something.else"}, NOW) == []
    assert next(a["kind"] for a in m.snapshot(NOW)["alerts"]) == "sla.breach"
    assert addressed_to(alert, "supervisor", 1)
    assert not addressed_to(alert, "admin", 1)
    assert addressed_to(alert, "admin", 5)
    assert addressed_to(raised[0], "admin", 1)


def test_service_level_alert_waits_for_enough_calls_and_rearms_after_recovery() -> None:
    m = model(("call", answered("a", T, 30, 10)))
    assert m.tick(NOW) == []  # one call: too few to judge
    m.apply("call", answered("b", T, 30, 10), NOW)
    assert [a["kind"] for a in m.tick(NOW)] == ["service_level"]
    for i in range(8):
        m.apply("call", answered(f"ok{i}", T, 5, 10), NOW)
    assert m.tick(NOW) == []  # 8 of 10 = 80 %: on target
    for i in range(3):
        m.apply("call", answered(f"late{i}", T, 50, 10), NOW)
    assert [a["kind"] for a in m.tick(NOW)] == ["service_level"]


def test_a_nodes_resync_only_judges_that_nodes_calls() -> None:
    model = LiveModel(CONFIG, NOW)
    for cid, node in (("na-1", "na"), ("nb-1", "nb")):
        model.apply(
            "call", {**event(cid, 1, "queued", snap(NOW, queued_at=0)), "pbx_node": node}, NOW
        )
    # Node na reconnects and lists none of nb's calls: nb's caller is not lost.
    assert model.reconcile(set(), NOW, "na") == ["na-1"]
    waiting = model.snapshot(NOW)["total"]["waiting"]
    assert waiting == 1
    assert model.reconcile(set(), NOW, "nb") == ["nb-1"]
