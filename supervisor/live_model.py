"""The live view: per queue and per agent, now and today. Pure (no I/O, no clock).

Fed with bus events ("call", "agent", "alert") and, after a restart, with today's call
rows and agent state history; `reconcile(call_ids)` with the calls Asterisk has after a
resync (no ghost callers); `set_counts(...)` with what only the database knows (today's
tickets and surveys, pending callbacks); `tick(now)` rolls the day over at local
midnight and raises the live alerts; `snapshot(now)` is what the supervisor websocket
and GET /api/supervisor/live send. Counters are reports/metrics.py's `derive()` over the
same `Aggregates` a day report sums (supervisor/live_calls.py, plus the report's own
ticket and survey sums), so they match the call log and the day report for today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from kernel import topics
from kernel.config import Settings
from reports.intervals import local_midnight
from reports.metrics import Aggregates, Thresholds, derive
from reports.service import thresholds_from
from supervisor.live_agents import AgentBoard, AgentEntry, Stretch
from supervisor.live_alerts import Alerts
from supervisor.live_calls import CallEntry, DayCalls


@dataclass(frozen=True, slots=True)
class QueueInfo:
    name: str
    skill: str
    label: dict[str, str]
    sl_percent: float
    sl_seconds: float


@dataclass(frozen=True, slots=True)
class DbCounts:
    """What the live view counts from the database rather than from events: today's
    tickets and surveys as the day report sums them (reports/sql.py, center total and
    surveys per queue) and the callbacks still to make per queue (callback_requests
    pending, dialing or waiting to retry)."""

    total: Aggregates = field(default_factory=Aggregates)
    by_queue: Mapping[str, Aggregates] = field(default_factory=dict)
    callbacks_pending: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LiveConfig:
    thresholds: Thresholds
    queues: tuple[QueueInfo, ...]
    timezone: str = "Asia/Shanghai"
    wait_alert_seconds: float = 60
    sl_alert_min_calls: int = 10

    @classmethod
    def from_settings(cls, s: Settings) -> LiveConfig:
        return cls(
            thresholds=thresholds_from(s),
            queues=tuple(
                QueueInfo(
                    q.name,
                    q.skill,
                    q.label.model_dump(),
                    float(q.service_level.percent),
                    float(q.service_level.seconds),
                )
                for q in s.queues
            ),
            timezone=s.center.timezone,
            wait_alert_seconds=float(s.reports.wait_alert_seconds),
            sl_alert_min_calls=s.reports.service_level_alert_min_calls,
        )


def day_start_of(now: float, zone: ZoneInfo) -> dt.datetime:
    """The local midnight (aware UTC) starting the day that holds `now`."""
    local = dt.datetime.fromtimestamp(now, zone).date()
    return local_midnight(local, zone).astimezone(dt.UTC)


def _agent_counts(agents: Iterable[AgentEntry]) -> dict[str, Any]:
    counts: dict[str, Any] = {
        "logged_in": 0,
        "ready": 0,
        "reserved": 0,
        "on_call": 0,
        "wrap_up": 0,
        "not_ready": 0,
        "not_ready_by_reason": {},
    }
    for a in agents:
        if a.state == "logged_out":
            continue
        counts["logged_in"] += 1
        key = "ready" if a.state == "available" else a.state
        if key in counts:
            counts[key] += 1
        if a.state == "not_ready":
            reason = a.reason or ""
            counts["not_ready_by_reason"][reason] = counts["not_ready_by_reason"].get(reason, 0) + 1
    return counts


class LiveModel:
    def __init__(self, config: LiveConfig, now: float) -> None:
        self.config = config
        self.zone = ZoneInfo(config.timezone)
        start = day_start_of(now, self.zone)
        self.calls = DayCalls(config.thresholds, start)
        self.agents = AgentBoard(start.timestamp())
        self.alerts = Alerts(
            wait_seconds=config.wait_alert_seconds, min_calls=config.sl_alert_min_calls
        )
        self.counts = DbCounts()
        # True while Asterisk has not confirmed the calls read from the database (a
        # resync is due): only confirmed calls are shown waiting or on an agent.
        self.awaiting_pbx = False
        self.pbx_synced_at: float | None = None  # the last reconcile with Asterisk

    @property
    def day_start(self) -> dt.datetime:
        return self.calls.day_start

    # -- input ---------------------------------------------------------------------------

    def load_calls(self, rows: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        self.calls.load(rows)

    def load_agents(self, stretches: Iterable[Stretch], now: float) -> None:
        self.agents.load(stretches, now)

    def reconcile(
        self, call_ids: Collection[str], now: float, node: str | None = None
    ) -> list[str]:
        """The calls Asterisk has after a resync (bus "pbx", pbx.connected `call_ids`);
        returns the Linkedids no longer shown (Asterisk has no such call)."""
        self.awaiting_pbx = False
        self.pbx_synced_at = now
        return self.calls.reconcile(call_ids, node)

    def set_counts(self, counts: DbCounts) -> None:
        self.counts = counts

    def _waiting(self) -> list[CallEntry]:
        return self.calls.waiting(confirmed_only=self.awaiting_pbx)

    def apply(self, topic: str, event: Mapping[str, Any], now: float) -> list[dict[str, Any]]:
        """One bus event; returns the alerts it raised. Anything unknown is ignored."""
        if topic == topics.CALL:
            self.calls.apply(event)
        elif topic == topics.AGENT:
            self.agents.apply(event)
        elif topic == topics.ALERT:
            alert = (
                self.alerts.ticket(event, now)
                or self.alerts.privacy(event, now)
                or self.alerts.sms(event, now)
            )
            return [alert] if alert is not None else []
        return []

    def tick(self, now: float) -> list[dict[str, Any]]:
        """Roll the day over at local midnight; raise service-level and long-wait alerts."""
        start = day_start_of(now, self.zone)
        if start != self.calls.day_start:
            self.calls.roll_over(start)
            self.agents.roll_over(start.timestamp())
            pending = self.counts.callbacks_pending
            self.counts = DbCounts(callbacks_pending=pending)  # tickets and surveys: a new day
        totals = self.calls.totals()
        levels = []
        for q in self.config.queues:
            m = derive(totals.get(q.name, Aggregates()))
            levels.append((q.name, m.service_level, m.answered, q.sl_percent))
        raised = self.alerts.service_levels(levels, now)
        waits = [
            (e.linkedid, e.facts.queue, now - e.queued_at.timestamp(), e.caller_number)
            for e in self._waiting()
            if e.queued_at is not None
        ]
        return raised + self.alerts.long_waits(waits, now)

    # -- output --------------------------------------------------------------------------

    def snapshot(self, now: float) -> dict[str, Any]:
        totals = self.calls.totals()
        waiting = self._waiting()
        day_start = self.agents.day_start
        queues = [self._queue(q, totals, waiting, now, day_start) for q in self.config.queues]
        total = self.counts.total
        for a in totals.values():
            total = total + a
        busy = Aggregates()
        for agent in self.agents.agents.values():
            busy = busy + agent.occupancy_sums(now, day_start)
        center = derive(total + busy).as_dict()
        center["waiting"] = len(waiting)
        center["longest_wait_seconds"] = _longest(waiting, now)
        center["callbacks_pending"] = sum(self.counts.callbacks_pending.values())
        return {
            "type": "snapshot",
            "at": now,
            "day": dt.datetime.fromtimestamp(now, self.zone).date().isoformat(),
            "timezone": self.config.timezone,
            "queues": queues,
            "total": center,
            "agents_total": _agent_counts(self.agents.agents.values()),
            "agents": self._agents(now),
            "alerts": list(self.alerts.recent),
            "pbx_synced_at": self.pbx_synced_at,
        }

    def _queue(
        self,
        q: QueueInfo,
        totals: Mapping[str, Aggregates],
        waiting: list[CallEntry],
        now: float,
        day_start: float,
    ) -> dict[str, Any]:
        mine = [e for e in waiting if e.facts.queue == q.name]
        serving = self.agents.serving(q.skill)
        sums = totals.get(q.name, Aggregates()) + self.counts.by_queue.get(q.name, Aggregates())
        for agent in serving:
            sums = sums + agent.occupancy_sums(now, day_start)
        return {
            "queue": q.name,
            "skill": q.skill,
            "label": q.label,
            "target": {"percent": q.sl_percent, "seconds": q.sl_seconds},
            "waiting": len(mine),
            "longest_wait_seconds": _longest(mine, now),
            "callbacks_pending": self.counts.callbacks_pending.get(q.name, 0),
            "agents": _agent_counts(serving),
            "metrics": derive(sums).as_dict(),
        }

    def _agents(self, now: float) -> list[dict[str, Any]]:
        current = self.calls.current_calls(confirmed_only=self.awaiting_pbx)
        handled = self.calls.handled()
        out = []
        for a in sorted(self.agents.agents.values(), key=lambda a: a.agent_id):
            call = current.get(a.extension or "")
            out.append(
                {
                    "agent_id": a.agent_id,
                    "extension": a.extension,
                    "name": a.name,
                    "state": a.state,
                    "reason": a.reason,
                    "since": a.since,
                    "seconds_in_state": round(max(0.0, now - a.since), 1) if a.since else None,
                    "handled": handled.get(a.extension or "", 0),
                    "call_id": call.linkedid if call else None,
                    "caller_number": call.caller_number if call else None,
                    "queue": call.facts.queue if call else None,
                    "skills": dict(a.skills),
                }
            )
        return out


def _longest(waiting: list[CallEntry], now: float) -> float | None:
    starts = [e.queued_at.timestamp() for e in waiting if e.queued_at is not None]
    return round(max(0.0, now - min(starts)), 1) if starts else None
