"""The reports API on SQLite and PostgreSQL: JSON equal to the pure definitions, CSV,
charts as SVG and PNG, for supervisors, QA and admins only."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from typing import Any

import sqlalchemy as sa

from db.models import Role
from hotline.http import create_app
from kernel.clock import FakeClock
from reports.intervals import Interval
from reports.metrics import derive
from reports.sql import Dimension, ReportQuery
from tests.harness.http_app import add_user, api_client, api_services, bearer, issuer_for
from tests.integration.reports.test_reports_sql import NOW, RANGE, insert, make_dataset, reference

PARAMS = {"from": RANGE.first.isoformat(), "to": RANGE.last.isoformat()}


async def test_reports_json_csv_svg_png_and_roles(db_url: str) -> None:
    async with api_services(db_url, clock=FakeClock(NOW)) as services:
        data = make_dataset()
        await insert(services.engine, data)
        if services.engine.dialect.name == "postgresql":  # the data set chose its user ids
            async with services.engine.begin() as conn:
                await conn.execute(sa.text("SELECT setval('users_id_seq', 100)"))
        boss = await add_user(services, "supervisor01", Role.SUPERVISOR)
        agent = await add_user(services, "agent99", Role.AGENT, "1099")
        issuer = issuer_for(services)

        def token(user: Any) -> dict[str, str]:
            t, _ = issuer.issue(
                user_id=user.id,
                username=user.username,
                display_name=user.display_name,
                role=user.role.value,
                extension=user.extension,
            )
            return bearer(t)

        async with api_client(create_app(services)) as client:
            r = await client.get(
                "/api/reports",
                params={**PARAMS, "interval": "day", "dimension": "queue"},
                headers=token(boss),
            )
            assert r.status_code == 200, r.text
            body = r.json()
            want = reference(data, ReportQuery(RANGE, Interval.DAY, Dimension.QUEUE))
            assert len(body["rows"]) == len(want)
            for row in body["rows"]:
                day = row["interval_start"][:10]
                (cell,) = [
                    a
                    for (b, k), a in want.items()
                    if b.date().isoformat() == day and k == row["key"]
                ]
                expected = derive(cell).as_dict()
                assert {k: row[k] for k in expected} == expected
            labels = {row["key"]: row["label"] for row in body["by_key"]}
            assert labels["billing"] == "账务缴费"
            assert labels[""] == "未分配"
            assert body["total"]["offered"] == sum(a.offered for a in want.values())

            r = await client.get(
                "/api/reports",
                params={**PARAMS, "dimension": "queue", "format": "csv", "lang": "en"},
                headers=token(boss),
            )
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/csv")
            rows = list(csv.DictReader(io.StringIO(r.text.removeprefix("\ufeff"))))
            assert {row["label"] for row in rows} >= {"Billing and payments", "Faults and repairs"}

            r = await client.get(
                "/api/reports/chart",
                params={
                    **PARAMS,
                    "dimension": "queue",
                    "kind": "line",
                    "metric": "offered",
                    "format": "svg",
                    "title": "来电量",
                },
                headers=token(boss),
            )
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("image/svg+xml")
            assert "来电量" in r.text
            ET.fromstring(r.text)
            r = await client.get(
                "/api/reports/chart",
                params={**PARAMS, "dimension": "queue", "kind": "pie", "format": "png"},
                headers=token(boss),
            )
            assert r.status_code == 200
            assert r.content.startswith(b"\x89PNG")
            r = await client.get(
                "/api/reports/chart", params={**PARAMS, "kind": "bar"}, headers=token(boss)
            )
            assert r.json()["kind"] == "bar"

            r = await client.get("/api/reports", params=PARAMS, headers=token(agent))
            assert r.status_code == 403
            r = await client.get(
                "/api/reports",
                params={"from": "2026-01-01", "to": "2026-12-31", "interval": "15min"},
                headers=token(boss),
            )
            assert r.status_code == 422
            assert "at most 31 days" in r.json()["message"]
            # An agent id beyond any users.id (schemathesis found a 500 here on SQLite).
            for route in ("/api/reports", "/api/reports/chart"):
                r = await client.get(
                    route, params={**PARAMS, "agent": ["153", str(2**63 + 7)]}, headers=token(boss)
                )
                assert r.status_code == 422, r.text
                assert "agent" in r.text
