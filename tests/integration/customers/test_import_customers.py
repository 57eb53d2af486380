"""Customer import from the billing system's CSV: 100,000 rows with 1 % bad rows (good
rows imported, a clear report per bad row, progress), Chinese headers in GB18030, and
re-imports that update customers, add phones and audit tier moves."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import col, func, select

from customers.importer import CustomerImporter, ImportFormatError, ImportProgress
from db.models import AuditLog, Customer, CustomerPhone, Tier
from hotline.services import Services
from kernel.audit import Actor
from tests.integration.tickets.support import make_services

HEADER = ["account_number", "name", "address", "district", "postcode", "tier", "balance",
          "arrears", "last_payment_on", "last_payment_amount", "meter_number", "phones"]  # fmt: skip
ROWS = 100_000
# (field the report must name, how the row is spoiled)
SPOILERS: list[tuple[str, Callable[[list[str]], None] | None]] = [
    ("name", lambda r: r.__setitem__(1, "")),
    ("tier", lambda r: r.__setitem__(5, "D")),
    ("arrears", lambda r: r.__setitem__(7, "-5.00")),
    ("balance", lambda r: r.__setitem__(6, "12.345")),
    ("last_payment_on", lambda r: r.__setitem__(8, "2026-13-40")),
    ("phones", lambda r: r.__setitem__(11, "12345")),
    ("account_number", None),  # a duplicate of the previous row's account
]


@pytest.fixture
async def services(db_url: str) -> AsyncIterator[Services]:
    async for s in make_services(db_url):
        yield s


def billing_export(path: Path) -> dict[int, str]:
    """Write the export; returns {line: field} of the bad rows."""
    bad: dict[int, str] = {}
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        previous = ""
        for i in range(ROWS):
            account = f"33{i:08d}"
            row = [account, f"客户{i}", f"滨江区江南大道{i % 900}号", "滨江区", "310051",
                   "ABC"[i % 3] if i % 50 == 0 else "C", f"{i % 500}.50", "0.00",
                   "2026-10-15", "88.00", f"M{i:08d}",
                   f"138{i:08d};0571{i % 10_000_000:07d}" if i % 10 == 0 else f"139{i:08d}"]  # fmt: skip
            if i % 100 == 37:
                name, spoil = SPOILERS[(i // 100) % len(SPOILERS)]
                if spoil is None:
                    row[0] = previous
                else:
                    spoil(row)
                bad[i + 2] = name
            previous = row[0]
            writer.writerow(row)
    return bad


async def test_given_100k_rows_with_1_percent_bad_then_good_rows_import_and_each_bad_row_is_reported(
    services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "billing_export.csv"
    bad = billing_export(path)
    assert len(bad) == ROWS // 100
    seen: list[ImportProgress] = []

    report = await CustomerImporter(services, batch_size=2000).import_csv(
        path, Actor.system("import"), progress=seen.append
    )

    assert (report.rows, report.created, report.updated, report.failed) == (ROWS, 99_000, 0, 1_000)
    assert {e.line: e.field for e in report.errors} == bad
    duplicate = next(e for e in report.errors if e.field == "account_number")
    assert "duplicate in this file (first on line" in duplicate.message
    arrears = next(e for e in report.errors if e.field == "arrears")
    assert (arrears.message, arrears.value) == ("must not be negative", "-5.00")
    lines = report.errors_csv().splitlines()
    assert lines[0] == "line,account_number,field,message,value"
    assert len(lines) == 1_001
    # Progress after every batch, up to the whole file.
    assert seen[-1] == ImportProgress(ROWS, ROWS, 99_000, 0, 1_000)
    assert [p.rows_done for p in seen] == sorted(p.rows_done for p in seen)
    assert len(seen) == ROWS // 2000

    async with services.sessions() as s:
        assert (await s.exec(select(func.count()).select_from(Customer))).one() == 99_000
        assert (
            await s.exec(select(func.count()).select_from(CustomerPhone))
        ).one() == 99_000 + 10_000  # every tenth row has a landline too
        c = (await s.exec(select(Customer).where(Customer.account_number == "3300000010"))).one()
        assert (c.name, c.balance, c.district) == ("客户10", Decimal("10.50"), "滨江区")
        assert sorted((p.number, p.kind.value, p.is_primary) for p in c.phones) == [
            ("05710000010", "landline", False),
            ("13800000010", "mobile", True),
        ]
        assert c.tier == Tier.C
        a = (await s.exec(select(Customer).where(Customer.account_number == "3300000050"))).one()
        assert a.tier == Tier.C  # "ABC"[50 % 3]
        b = (await s.exec(select(Customer).where(Customer.account_number == "3300000100"))).one()
        assert b.tier == Tier.B
    print(f"\nimported {ROWS:,} rows in {report.seconds:.1f} s")


def chinese_export(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["户号", "户名", "地址", "区域", "客户等级", "欠费", "电话", "系统内码"])
    writer.writerows(rows)
    return out.getvalue().encode("gb18030")


async def test_given_a_gb18030_export_twice_then_customers_update_phones_add_and_tier_moves_are_audited(
    services: Services,
) -> None:
    importer = CustomerImporter(services)
    actor = Actor(None, "营业科导入", "admin")
    first = await importer.import_csv(
        chinese_export(
            [
                [
                    "2100000011",
                    "滨江燃气有限公司",
                    "江南大道1号",
                    "滨江区",
                    "商业客户",
                    "0",
                    "0571-8888 1234",
                ],
                ["2100000029", "王芳", "长河路8号", "滨江区", "居民客户", "12.50", "13800138000"],
            ]
        ),
        actor,
    )
    assert (first.created, first.failed, first.phones_added) == (2, 0, 2)
    assert first.ignored_columns == ["系统内码"]
    second = await importer.import_csv(
        chinese_export(
            [
                [
                    "2100000011",
                    "滨江燃气有限公司",
                    "江南大道1号",
                    "滨江区",
                    "大客户",
                    "0",
                    "057188881234;13900001111",
                ],
                ["2100000029", "王芳", "长河路8号", "滨江区", "C", "0", "13800138000"],
            ]
        ),
        actor,
    )
    assert (second.created, second.updated, second.tier_changes, second.phones_added) == (
        0,
        2,
        1,
        1,
    )
    async with services.sessions() as s:
        company = (
            await s.exec(select(Customer).where(Customer.account_number == "2100000011"))
        ).one()
        assert company.tier == Tier.A
        assert sorted(p.number for p in company.phones) == ["057188881234", "13900001111"]
        wang = (await s.exec(select(Customer).where(Customer.account_number == "2100000029"))).one()
        assert wang.arrears == Decimal("0.00")
        moves = (
            await s.exec(select(AuditLog).where(AuditLog.action == "customer.tier_changed"))
        ).all()
        assert [(m.object_id, m.detail["from"], m.detail["to"], m.actor_name) for m in moves] == [
            (str(company.id), "B", "A", "营业科导入")
        ]


async def test_given_a_file_without_the_required_columns_then_it_is_refused(
    services: Services,
) -> None:
    with pytest.raises(ImportFormatError, match="account_number"):
        await CustomerImporter(services).import_csv(
            "名字,电话\n张三,13800000000\n".encode(), Actor.system()
        )
    with pytest.raises(ImportFormatError, match="empty"):
        await CustomerImporter(services).import_csv(b"", Actor.system())
    async with services.sessions() as s:
        count = (await s.exec(select(func.count()).select_from(Customer))).one()
        assert count == 0
        assert (await (await s.connection()).execute(sa.select(col(Customer.id)))).all() == []
