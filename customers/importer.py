"""Importing the customer file from the billing system's CSV export.

    report = await CustomerImporter(services).import_csv(path, actor, progress=callback)

- Headers in English or Chinese (户号, 户名, 地址, 区域, 邮编, 客户等级, 余额, 欠费,
  最后缴费日期, 最后缴费金额, 表号, 电话, 语言, 备注); account_number and name required.
  UTF-8 (with or without BOM) or GB18030 (what Chinese spreadsheet exports often are).
- Every row is validated on its own: a bad row is reported (line, account, field,
  message) and skipped, the good rows are imported. Nothing is deleted.
- A known account number updates that customer (phones from the file are added, none
  removed); a tier change is written to audit_log (customer.tier_changed).
- Rows are read and checked in a worker thread and written in batches, so the event
  loop stays free; `progress` is called after every batch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from customers.import_rows import (
    ImportFormatError,
    ImportProgress,
    ImportReport,
    RowError,
    Rows,
)
from db.models import PhoneKind, Tier, metadata
from db.phones import is_mobile
from hotline.services import Services
from kernel.audit import Actor, audit_row, write_audit

__all__ = ["CustomerImporter", "ImportFormatError", "ImportProgress", "ImportReport", "RowError"]
CUSTOMERS: sa.Table = metadata.tables["customers"]
PHONES: sa.Table = metadata.tables["customer_phones"]


@dataclass
class _Written:
    created: int = 0
    updated: int = 0
    tier_changes: int = 0
    phones_added: int = 0


def _insert(dialect: str, table: sa.Table) -> Any:
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


class CustomerImporter:
    def __init__(self, services: Services, *, batch_size: int = 1000) -> None:
        self._services = services
        self._batch_size = batch_size
        tiers: dict[str, Tier] = {t.value: t for t in Tier}
        for name, tier in services.settings.tiers.items():
            tiers[tier.label.zh] = Tier(name)
            tiers[tier.label.en] = Tier(name)
        self._tiers = tiers

    async def import_csv(
        self,
        source: Path | bytes,
        actor: Actor,
        *,
        progress: Callable[[ImportProgress], None] | None = None,
    ) -> ImportReport:
        """Import a billing export; raises ImportFormatError if the file is unusable."""
        from db.unit_of_work import retry_locked

        started = time.monotonic()
        report = ImportReport()
        rows = await asyncio.to_thread(Rows, source, self._tiers)
        report.ignored_columns = rows.ignored
        try:
            while batch := await asyncio.to_thread(rows.batch, self._batch_size):
                good = [r for r in batch if isinstance(r, dict)]
                for r in batch:
                    if isinstance(r, list):
                        report.errors.extend(r)
                        report.failed += 1
                written = await retry_locked(lambda good=good: self._write(good, actor))  # type: ignore[misc]
                report.rows += len(batch)
                report.created += written.created
                report.updated += written.updated
                report.tier_changes += written.tier_changes
                report.phones_added += written.phones_added
                if progress is not None:
                    progress(
                        ImportProgress(
                            report.rows, rows.total, report.created, report.updated, report.failed
                        )
                    )
        finally:
            await asyncio.to_thread(rows.close)
        report.seconds = time.monotonic() - started
        return report

    async def _write(self, good: list[dict[str, Any]], actor: Actor) -> _Written:
        out = _Written()
        if not good:
            return out
        now = self._services.clock.now()
        async with self._services.sessions() as session:
            conn = await session.connection()
            dialect = conn.dialect.name
            found = await conn.execute(
                sa.select(CUSTOMERS.c.id, CUSTOMERS.c.account_number, CUSTOMERS.c.tier).where(
                    CUSTOMERS.c.account_number.in_([r["account_number"] for r in good])
                )
            )
            existing = {acc: (cid, Tier(tier)) for cid, acc, tier in found.all()}
            fields = [c for c in good[0] if c != "phones"]
            fresh = [r for r in good if r["account_number"] not in existing]
            ids: dict[str, int] = {}
            if fresh:
                # Plain executemany (no RETURNING): psycopg prepares it once, where a
                # RETURNING insert becomes huge multi-VALUES statements parsed each time.
                await conn.execute(
                    CUSTOMERS.insert(),
                    [
                        {**{k: r[k] for k in fields}, "created_at": now, "updated_at": now}
                        for r in fresh
                    ],
                )
                created = await conn.execute(
                    sa.select(CUSTOMERS.c.id, CUSTOMERS.c.account_number).where(
                        CUSTOMERS.c.account_number.in_([r["account_number"] for r in fresh])
                    )
                )
                ids = {acc: cid for cid, acc in created.all()}
                out.created = len(fresh)
            known = [r for r in good if r["account_number"] in existing]
            if known:
                await conn.execute(
                    sa.update(CUSTOMERS)
                    .where(CUSTOMERS.c.id == sa.bindparam("_id"))
                    .values(
                        {k: sa.bindparam(k) for k in fields if k != "account_number"}
                        | {"updated_at": sa.bindparam("_now")}
                    ),
                    [
                        {
                            **{k: r[k] for k in fields if k != "account_number"},
                            "_id": existing[r["account_number"]][0],
                            "_now": now,
                        }
                        for r in known
                    ],
                )
                out.updated = len(known)
                moves = [
                    (r, existing[r["account_number"]])
                    for r in known
                    if existing[r["account_number"]][1] != r["tier"]
                ]
                if moves:
                    await write_audit(
                        conn,
                        [
                            audit_row(
                                actor=actor,
                                action="customer.tier_changed",
                                object_type="customer",
                                object_id=cid,
                                source="customers.importer",
                                detail={
                                    "from": old.value,
                                    "to": r["tier"].value,
                                    "account_number": r["account_number"],
                                },
                                at=now,
                            )
                            for r, (cid, old) in moves
                        ],
                    )
                    out.tier_changes = len(moves)
            had: set[tuple[int, str]] = set()
            if known:
                rows = await conn.execute(
                    sa.select(PHONES.c.customer_id, PHONES.c.number).where(
                        PHONES.c.customer_id.in_([existing[r["account_number"]][0] for r in known])
                    )
                )
                had = {(cid, number) for cid, number in rows.all()}
            phones = []
            for r in good:
                cid = ids.get(r["account_number"]) or existing[r["account_number"]][0]
                for i, number in enumerate(r["phones"]):
                    if (cid, number) in had:
                        continue
                    kind = PhoneKind.MOBILE if is_mobile(number) else PhoneKind.LANDLINE
                    primary = i == 0 and r["account_number"] in ids
                    phones.append(
                        {
                            "customer_id": cid,
                            "number": number,
                            "kind": kind,
                            "is_primary": primary,
                            "created_at": now,
                        }
                    )
            if phones:
                stmt = _insert(dialect, PHONES).on_conflict_do_nothing(
                    index_elements=["customer_id", "number"]
                )
                await conn.execute(stmt, phones)
                out.phones_added = len(phones)
            await session.commit()
        return out
