"""Staffing: next week's forecast per interval and the agents each queue needs.

The history is read by reports/staffing_sql.py (the reports' 15-minute buckets per
queue in the center's time zone, DST-correct on both databases), folded here into the
configured interval (config staffing.interval_minutes). The agents signed in come from
agent_state_history (logged-in seconds per interval ÷ interval length = the mean number
of agents signed in). Forecast: reports/forecast.py;
agents: reports/erlang.py with each queue's service_level (config queues[]).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.business_calendar import BusinessCalendar, load_overrides
from kernel.config import Settings
from kernel.config.center import QueueSettings
from reports.erlang import agents_for_service_level, erlang_a, traffic_erlangs
from reports.forecast import Calendar, SlotForecast, SlotHistory, forecast_week, history_days
from reports.intervals import ReportRange
from reports.staffing_sql import fetch_calls, signed_in_seconds


@dataclass(frozen=True, slots=True)
class StaffingRow:
    day: dt.date
    slot: int
    start: dt.datetime  # aware, center time zone
    calls: float
    aht_seconds: float
    traffic_erlangs: float
    agents_needed: int
    agents_scheduled: int  # needed ÷ (1 − shrinkage), rounded up
    service_level: float  # expected with agents_needed (0..1)
    asa_seconds: float
    p_abandon: float | None  # Erlang A, when staffing.patience_seconds is set
    basis: str


def staff_interval(
    f: SlotForecast,
    start: dt.datetime,
    *,
    interval_seconds: float,
    target_seconds: float,
    target_share: float,
    shrinkage: float,
    max_occupancy: float,
    patience_seconds: float | None,
) -> StaffingRow:
    """Agents for one forecast interval (pure)."""
    traffic = traffic_erlangs(f.calls, interval_seconds, f.aht_seconds)
    s = agents_for_service_level(
        traffic, f.aht_seconds, target_seconds, target_share, max_occupancy=max_occupancy
    )
    abandon = None
    if patience_seconds is not None:
        arrivals = f.calls / interval_seconds
        abandon = erlang_a(s.agents, arrivals, f.aht_seconds, patience_seconds).p_abandon
    return StaffingRow(
        day=f.day,
        slot=f.slot,
        start=start,
        calls=f.calls,
        aht_seconds=f.aht_seconds,
        traffic_erlangs=traffic,
        agents_needed=s.agents,
        agents_scheduled=math.ceil(s.agents / (1 - shrinkage) - 1e-9),
        service_level=s.service_level,
        asa_seconds=s.asa_seconds,
        p_abandon=abandon,
        basis=f.basis,
    )


@dataclass(frozen=True, slots=True)
class QueuePlan:
    queue: QueueSettings
    rows: list[StaffingRow]


@dataclass(frozen=True, slots=True)
class SignedIn:
    start: dt.datetime
    agents: float | None  # mean agents signed in; None for an interval not yet begun
    history_agents: float  # the same weekday and interval, mean over the history weeks


@dataclass(frozen=True, slots=True)
class StaffingPlan:
    week_start: dt.date
    weeks: int
    interval_minutes: int
    timezone: str
    holidays: list[dt.date]  # business-calendar holidays in the forecast week
    queues: list[QueuePlan]
    signed_in: list[SignedIn]


class StaffingService:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings

    async def plan(
        self, week_start: dt.date, weeks: int, queues: list[QueueSettings], now: dt.datetime
    ) -> StaffingPlan:
        s = self._settings
        cfg = s.staffing
        tz = s.center.timezone
        zone = ZoneInfo(tz)
        minutes = cfg.interval_minutes
        slots = 24 * 60 // minutes
        first = history_days(week_start, weeks)[0]
        last = week_start + dt.timedelta(days=6)
        rng = ReportRange(first, last, tz)
        names = tuple(q.name for q in queues)
        history_range = ReportRange(first, week_start - dt.timedelta(days=1), tz)
        calls, logged = await asyncio.gather(
            fetch_calls(self._engine, history_range, names),
            signed_in_seconds(self._engine, rng, minutes, now),
        )

        history: dict[str, list[SlotHistory]] = defaultdict(list)
        for bucket, queue, offered, answered, handle in calls:
            slot = (bucket.hour * 60 + bucket.minute) // minutes
            history[queue].append(SlotHistory(bucket.date(), slot, offered, answered, handle))

        calendar = await business_days(self._engine, s, first, last)
        interval_seconds = minutes * 60.0
        plans = []
        for q in queues:
            forecast = forecast_week(
                history[q.name],
                week_start,
                weeks=weeks,
                slots_per_day=slots,
                calendar=calendar,
                default_aht_seconds=cfg.default_aht_seconds,
                holiday_rule=cfg.holidays,
                always_open=q.name in s.routing.emergency_queues,
            )
            rows = [
                staff_interval(
                    f,
                    slot_start(f.day, f.slot, minutes, zone),
                    interval_seconds=interval_seconds,
                    target_seconds=float(q.service_level.seconds),
                    target_share=min(q.service_level.percent / 100.0, 0.9999),
                    shrinkage=cfg.shrinkage,
                    max_occupancy=cfg.max_occupancy,
                    patience_seconds=cfg.patience_seconds,
                )
                for f in forecast
            ]
            plans.append(QueuePlan(q, rows))

        past = history_days(week_start, weeks)
        signed = []
        for i in range(7):
            day = week_start + dt.timedelta(days=i)
            same = [d for d in past if d.weekday() == day.weekday()]
            for slot in range(slots):
                start = slot_start(day, slot, minutes, zone)
                mean = sum(logged.get((d, slot), 0.0) for d in same) / len(same) / interval_seconds
                actual = logged.get((day, slot), 0.0) / interval_seconds if start <= now else None
                signed.append(SignedIn(start, actual, mean))
        week = [week_start + dt.timedelta(days=i) for i in range(7)]
        return StaffingPlan(
            week_start=week_start,
            weeks=weeks,
            interval_minutes=minutes,
            timezone=tz,
            holidays=[d for d in week if d in calendar.holidays],
            queues=plans,
            signed_in=signed,
        )


async def business_days(
    engine: AsyncEngine, settings: Settings, first: dt.date, last: dt.date
) -> Calendar:
    """Holidays and adjusted working days between two dates: config `business_hours`
    with the administration page's edits over it (kernel.business_calendar)."""
    overrides = await load_overrides(engine)
    live = BusinessCalendar(settings.business_hours, settings.center.timezone, overrides)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    holidays = frozenset(d for d in days if live.is_holiday(d))
    worked = set(settings.business_hours.extra_working_days)
    worked |= {d for d, ranges in overrides.days.items() if ranges is not None and d.weekday() >= 5}
    return Calendar(holidays, frozenset(d for d in worked if first <= d <= last) - holidays)


def slot_start(day: dt.date, slot: int, minutes: int, zone: ZoneInfo) -> dt.datetime:
    at = slot * minutes
    return dt.datetime.combine(day, dt.time(at // 60, at % 60), tzinfo=zone)
