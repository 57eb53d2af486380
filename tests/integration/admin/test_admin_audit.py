"""The audit log viewer: filters (actor, action prefix, object, time range), pages, and
the CSV export (UTF-8 with a BOM, Chinese text intact, formulas neutralised)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from kernel.audit import Actor, audit_row, write_audit
from tests.integration.admin.support import AdminApp, admin_app

T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


async def _seed(app: AdminApp) -> None:
    rows: list[dict[str, Any]] = []
    for i in range(30):
        rows.append(
            audit_row(
                actor=Actor(None, "张三" if i % 2 else "lisi", "supervisor"),
                action="customer.read" if i % 3 else "recording.play",
                object_type="customer" if i % 3 else "recording",
                object_id=str(100 + i),
                detail={"reason": "客户来电咨询", "n": i},
                at=T0 + dt.timedelta(minutes=i),
            )
        )
    rows.append(
        audit_row(
            actor=Actor(None, "=cmd|' /C calc'!A0", None),
            action="customer.read",
            object_type="customer",
            object_id="1",
            at=T0 + dt.timedelta(hours=2),
        )
    )
    async with app.services.engine.begin() as conn:
        await write_audit(conn, rows)


async def test_given_audit_rows_when_filtered_then_only_matching_rows_newest_first(
    db_url: str,
) -> None:
    async with admin_app(db_url) as app:
        await _seed(app)
        q: dict[str, str | int] = {"actor": "张三", "action": "customer.", "limit": 5}
        r = await app.client.get("/api/admin/audit", params=q, headers=app.admin)
        assert r.status_code == 200, r.text
        page = r.json()
        # odd i (张三) and i % 3 != 0: 1, 5, 7, 11, 13, 17, 19, 23, 25, 29
        assert page["total"] == 10
        assert [e["object_id"] for e in page["entries"]] == ["129", "125", "123", "119", "117"]
        r = await app.client.get("/api/admin/audit", params={**q, "offset": 5}, headers=app.admin)
        assert [e["object_id"] for e in r.json()["entries"]] == ["113", "111", "107", "105", "101"]

        window = {
            "object_type": "recording",
            "since": (T0 + dt.timedelta(minutes=10)).isoformat(),
            "until": (T0 + dt.timedelta(minutes=20)).isoformat(),
        }
        r = await app.client.get("/api/admin/audit", params=window, headers=app.admin)
        assert [e["object_id"] for e in r.json()["entries"]] == ["118", "115", "112"]
        r = await app.client.get(
            "/api/admin/audit", params={"since": "2026-11-30T09:00:00"}, headers=app.admin
        )
        assert r.status_code == 422
        assert "time zone" in r.json()["message"]
        # action prefixes are literal: "%" matches nothing
        r = await app.client.get("/api/admin/audit", params={"action": "%"}, headers=app.admin)
        assert r.json()["total"] == 0


async def test_given_audit_rows_when_exported_then_csv_opens_in_excel_with_chinese(
    db_url: str,
) -> None:
    async with admin_app(db_url) as app:
        await _seed(app)
        r = await app.client.get(
            "/api/admin/audit.csv", params={"actor": "张三"}, headers=app.admin
        )
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        assert r.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert len(rows) == 15
        assert {row["actor_name"] for row in rows} == {"张三"}
        assert "客户来电咨询" in rows[0]["detail"]

        r = await app.client.get("/api/admin/audit.csv", headers=app.admin)
        rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows[0]["actor_name"].startswith("'=")  # not a formula in Excel
        # the admin's own sign-in is in the log too
        assert any(row["action"] == "auth.login" and row["actor_name"] == "boss" for row in rows)
