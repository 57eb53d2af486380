"""GET /api/reports/staffing through create_app on SQLite and PostgreSQL, with calls and
agent states inserted: the forecast is the mean of the history's same weekday and
interval, the agents are Erlang C's for the queue's service level, the agents signed in
come from agent_state_history, holidays follow the business calendar."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa

from db.models import AgentStateName, Role, metadata
from db.models.calendar import CalendarDayKind
from hotline.http import create_app
from hotline.services import Services
from kernel.calls import Direction, Disposition
from kernel.clock import FakeClock
from reports.erlang import agents_for_service_level
from tests.harness.http_app import add_user, api_client, api_services, bearer, issuer_for

ZONE = ZoneInfo("Asia/Shanghai")  # config.yaml center.timezone
CALLS = metadata.tables["calls"]
STATES = metadata.tables["agent_state_history"]
# Wednesday 4 March 2026, 10:00 in Shanghai: the default forecast week starts Monday 9th.
NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=ZONE)


def local(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=ZONE)


_ids = iter(range(1, 1_000_000))


def call_row(queue: str, at: dt.datetime, *, answered: bool = True) -> dict[str, Any]:
    n = next(_ids)
    return {
        "linkedid": f"17{n:08d}.1",
        "pbx_node": "default",
        "direction": Direction.INBOUND,
        "caller_number": "13900000000",
        "dialed_number": "95777",
        "started_at": at,
        "queued_at": at,
        "answered_at": at + dt.timedelta(seconds=10) if answered else None,
        "ended_at": at + dt.timedelta(minutes=3),
        "queue": queue,
        "skill": queue,
        "disposition": Disposition.ANSWERED if answered else Disposition.ABANDONED_QUEUE,
        "wait_seconds": 10.0,
        "talk_seconds": 150.0 if answered else 0.0,
        "hold_seconds": 10.0 if answered else 0.0,
        "wrap_seconds": 20.0 if answered else 0.0,
        "ivr_path": [],
        "agents": [],
        "agent_talk": {},
        "updated_at": at,
    }


async def insert_calls(services: Services, rows: list[dict[str, Any]]) -> None:
    async with services.engine.begin() as conn:
        await conn.execute(sa.insert(CALLS), rows)


def spread(queue: str, day: dt.date, hour: int, minute: int, count: int) -> list[dict[str, Any]]:
    """`count` calls within the half hour from hour:minute."""
    return [
        call_row(queue, local(day, hour, minute) + dt.timedelta(seconds=i * 1700 // count))
        for i in range(count)
    ]


async def get(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> httpx.Response:
    return await client.get("/api/reports/staffing", params=params, headers=headers)


def interval(body: dict[str, Any], queue: str, start: dt.datetime) -> dict[str, Any]:
    (q,) = [q for q in body["queues"] if q["queue"] == queue]
    rows: list[dict[str, Any]] = [r for r in q["intervals"] if r["start"] == start.isoformat()]
    assert len(rows) == 1
    return rows[0]


async def test_staffing_forecast_agents_and_signed_in(db_url: str) -> None:
    async with api_services(db_url, clock=FakeClock(NOW.timestamp())) as services:
        boss = await add_user(services, "boss", Role.SUPERVISOR)
        agent = await add_user(services, "agent02", Role.AGENT, "1002")
        mon1, mon2 = dt.date(2026, 2, 23), dt.date(2026, 3, 2)
        rows = spread("repair", mon1, 9, 0, 30) + spread("repair", mon2, 9, 0, 50)
        rows += spread("billing", mon2 + dt.timedelta(days=1), 14, 30, 7)
        rows += [call_row("repair", local(mon2, 9, 5), answered=False)]  # offered, not answered
        rows += spread("repair", dt.date(2026, 2, 16), 9, 0, 999)  # 3 weeks back: outside
        await insert_calls(services, rows)
        async with services.engine.begin() as conn:
            await conn.execute(
                sa.insert(STATES),
                [
                    # Signed in Monday 2 March 09:00-10:00 (two half hours), then out.
                    {
                        "user_id": agent.id,
                        "state": AgentStateName.AVAILABLE,
                        "started_at": local(mon2, 9),
                        "ended_at": local(mon2, 10),
                    },
                    {  # inside one interval: summed by the database
                        "user_id": agent.id,
                        "state": AgentStateName.NOT_READY,
                        "started_at": local(mon2, 11),
                        "ended_at": local(mon2, 11, 18),
                    },
                    {
                        "user_id": agent.id,
                        "state": AgentStateName.LOGGED_OUT,
                        "started_at": local(mon2, 10),
                        "ended_at": None,
                    },
                ],
            )
        issuer = issuer_for(services)
        token, _ = issuer.issue(
            user_id=boss.id or 0,
            username="boss",
            display_name="boss",
            role="supervisor",
            extension=None,
        )
        headers = bearer(token)
        async with api_client(create_app(services)) as client:
            r = await get(client, headers, weeks=2)
            assert r.status_code == 200, r.text
            body = r.json()
            assert (body["week_start"], body["week_end"]) == ("2026-03-09", "2026-03-15")
            assert (body["history_from"], body["history_to"]) == ("2026-02-23", "2026-03-08")
            assert body["interval_minutes"] == 30
            assert {q["queue"] for q in body["queues"]} == {
                q.name for q in services.settings.queues
            }
            for q in body["queues"]:
                assert len(q["intervals"]) == 7 * 48

            # Monday 09:00: (30 + 51 offered) / 2 Mondays; AHT 180 s (150 + 10 + 20).
            row = interval(body, "repair", local(dt.date(2026, 3, 9), 9))
            assert row["calls"] == 40.5
            assert row["aht_seconds"] == 180.0
            assert row["traffic_erlangs"] == 4.05
            want = agents_for_service_level(4.05, 180.0, 20.0, 0.85)  # repair: 85 % in 20 s
            assert row["agents_needed"] == want.agents
            assert row["service_level"] >= 0.85
            assert row["basis"] == "weekday"
            assert interval(body, "repair", local(dt.date(2026, 3, 9), 9, 30))["calls"] == 0
            assert interval(body, "repair", local(dt.date(2026, 3, 9), 9, 30))["agents_needed"] == 0
            # Tuesday 14:30 billing: 7 calls in one of two Tuesdays.
            assert interval(body, "billing", local(dt.date(2026, 3, 10), 14, 30))["calls"] == 3.5

            # Signed in: next week has not begun (null); the history is 1 agent-hour
            # over two Mondays = 0.5 agent in each of 09:00 and 09:30.
            signed = {s["start"]: s for s in body["signed_in"]}
            nine = signed[local(dt.date(2026, 3, 9), 9).isoformat()]
            assert nine["agents"] is None
            assert nine["history_agents"] == 0.5
            assert nine["agents_needed"] == sum(
                interval(body, q["queue"], local(dt.date(2026, 3, 9), 9))["agents_needed"]
                for q in body["queues"]
            )

            # The current week: actual agents signed in where the interval has begun.
            r = await get(client, headers, week_start="2026-03-02", weeks=1, queue="repair")
            assert r.status_code == 200, r.text
            body = r.json()
            assert [q["queue"] for q in body["queues"]] == ["repair"]
            signed = {s["start"]: s for s in body["signed_in"]}
            assert signed[local(mon2, 9).isoformat()]["agents"] == 1.0
            assert signed[local(mon2, 10).isoformat()]["agents"] == 0.0
            assert signed[local(mon2, 11).isoformat()]["agents"] == 0.6  # 18 of 30 minutes
            assert signed[local(dt.date(2026, 3, 5), 9).isoformat()]["agents"] is None  # Thursday
            assert interval(body, "repair", local(mon2, 9))["calls"] == 30  # from 23 Feb only

            # CSV: the same numbers.
            r = await get(client, headers, week_start="2026-03-09", weeks=2, format="csv")
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/csv")
            lines = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
            (nine_csv,) = [
                x
                for x in lines
                if x["queue"] == "repair"
                and x["start"] == local(dt.date(2026, 3, 9), 9).isoformat()
            ]
            assert float(nine_csv["calls"]) == 40.5

            # Bad input: clear 422s.
            r = await get(client, headers, queue="nope")
            assert (r.status_code, r.json()["error"]) == (422, "unknown_queue")
            r = await get(client, headers, week_start="0001-01-01")
            assert (r.status_code, r.json()["error"]) == (422, "invalid_range")
            r = await get(client, headers, week_start="2000-01-10")
            assert (r.status_code, r.json()["error"]) == (422, "invalid_range")
            r = await get(client, headers, weeks=0)
            assert r.status_code == 422


async def test_holidays_of_the_business_calendar_close_all_but_emergencies(db_url: str) -> None:
    """Week of 28 September 2026: 1 and 2 October are holidays (config.yaml); Sunday 27
    September is an adjusted working day in the history (left out of the Sunday mean)."""
    clock = FakeClock(dt.datetime(2026, 9, 23, 12, 0, tzinfo=ZONE).timestamp())
    async with api_services(db_url, clock=clock) as services:
        boss = await add_user(services, "boss", Role.ADMIN)
        rows: list[dict[str, Any]] = []
        for back in (1, 2):  # the two Thursdays before
            thursday = dt.date(2026, 10, 1) - dt.timedelta(weeks=back)
            rows += spread("repair", thursday, 10, 0, 10) + spread("emergency", thursday, 10, 0, 4)
        rows += spread("general", dt.date(2026, 9, 27), 10, 0, 20)  # the worked Sunday
        rows += spread("general", dt.date(2026, 9, 20), 10, 0, 6)  # a plain Sunday
        rows += spread("repair", dt.date(2026, 9, 21), 10, 0, 8)  # a Monday
        await insert_calls(services, rows)
        # Tuesday 29 September closed from the administration page (no restart).
        async with services.engine.begin() as conn:
            await conn.execute(
                sa.insert(metadata.tables["calendar_days"]).values(
                    day=dt.date(2026, 9, 29),
                    kind=CalendarDayKind.HOLIDAY,
                    ranges=[],
                    note="typhoon",
                    updated_by="admin",
                    updated_at=dt.datetime.now(dt.UTC),
                )
            )
        token, _ = issuer_for(services).issue(
            user_id=boss.id or 0, username="boss", display_name="boss", role="admin", extension=None
        )
        async with api_client(create_app(services)) as client:
            r = await get(client, bearer(token), week_start="2026-09-28", weeks=2)
            assert r.status_code == 200, r.text
            body = r.json()
        assert body["holidays"] == ["2026-09-29", "2026-10-01", "2026-10-02"]
        assert interval(body, "repair", local(dt.date(2026, 9, 29), 10))["basis"] == (
            "holiday_closed"
        )
        assert interval(body, "repair", local(dt.date(2026, 9, 28), 10))["calls"] == 4  # 8 / 2
        holiday = local(dt.date(2026, 10, 1), 10)
        repair = interval(body, "repair", holiday)
        assert (repair["calls"], repair["agents_needed"], repair["basis"]) == (
            0,
            0,
            "holiday_closed",
        )
        emergency = interval(body, "emergency", holiday)  # routing.emergency_queues: open
        assert (emergency["calls"], emergency["basis"]) == (4, "weekday")
        assert emergency["agents_needed"] >= 1
        # Sunday 4 October: only the plain Sunday counts (the worked one is atypical).
        assert interval(body, "general", local(dt.date(2026, 10, 4), 10))["calls"] == 6
