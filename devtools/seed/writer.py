"""Writes the demo data (a thin adapter: the generators decide what, this decides how).

Customers go in with bulk Core inserts, one transaction per batch, never ORM objects
one by one. Running it again appends customers (new ids, new account numbers); users
that already exist are kept; articles and notices are only added to empty tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

import sqlalchemy as sa
from sqlalchemy import Engine, Table

from db.models import AgentSkill, Customer, CustomerPhone, KbArticle, Notice, User
from devtools.seed.content import kb_articles, notices
from devtools.seed.customers import Row, generate_customers
from devtools.seed.progress import Progress
from devtools.seed.staff import DEMO_PASSWORD, StaffSeed, department_clerks, generate_staff


def _table(model: type) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


@dataclass
class SeedReport:
    customers: int = 0
    phones: int = 0
    first_customer_id: int = 0
    users_created: list[str] = field(default_factory=list)
    users_kept: list[str] = field(default_factory=list)
    kb_articles: int = 0
    notices: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def default_hasher() -> Callable[[str], str]:
    from argon2 import PasswordHasher

    return PasswordHasher().hash


def seed_database(
    engine: Engine,
    *,
    customers: int,
    agents: int,
    seed: int,
    skills: Sequence[str],
    now: dt.datetime,
    departments: Sequence[str] = (),
    batch_size: int = 5000,
    hash_password: Callable[[str], str] | None = None,
    progress_stream: TextIO | None = None,
) -> SeedReport:
    report = SeedReport()
    hasher = hash_password or default_hasher()
    staff = generate_staff(seed, agents, skills) + department_clerks(departments)
    progress = Progress("staff", len(staff), progress_stream)
    _write_staff(engine, staff, hasher, now, progress, report)
    report.seconds["staff"] = progress.close()

    progress = Progress("customers", customers, progress_stream)
    _write_customers(engine, seed, customers, now, batch_size, progress, report)
    report.seconds["customers"] = progress.close()

    with engine.begin() as conn:
        if conn.scalar(sa.select(sa.func.count()).select_from(_table(KbArticle))) == 0:
            rows = kb_articles(now)
            conn.execute(_table(KbArticle).insert(), rows)
            report.kb_articles = len(rows)
        if conn.scalar(sa.select(sa.func.count()).select_from(_table(Notice))) == 0:
            rows = notices(seed, now)
            conn.execute(_table(Notice).insert(), rows)
            report.notices = len(rows)
    return report


def _write_staff(
    engine: Engine,
    staff: Sequence[StaffSeed],
    hasher: Callable[[str], str],
    now: dt.datetime,
    progress: Progress,
    report: SeedReport,
) -> None:
    users, skills = _table(User), _table(AgentSkill)
    with engine.begin() as conn:
        existing = set(conn.scalars(sa.select(users.c.username)))
        taken_ext = set(
            conn.scalars(sa.select(users.c.extension).where(users.c.extension.is_not(None)))
        )
        for person in staff:
            progress.update(1)
            if person.username in existing:
                report.users_kept.append(person.username)
                continue
            row = person.user_row(hasher(DEMO_PASSWORD), now)
            if row["extension"] in taken_ext:
                row["extension"] = None  # someone real has it: do not steal it
            user_id = conn.execute(users.insert().returning(users.c.id), row).scalar_one()
            if person.skills:
                conn.execute(
                    skills.insert(),
                    [
                        {"user_id": user_id, "skill": s, "level": lvl, "updated_at": now}
                        for s, lvl in person.skills.items()
                    ],
                )
            report.users_created.append(person.username)


def _write_customers(
    engine: Engine,
    seed: int,
    count: int,
    now: dt.datetime,
    batch_size: int,
    progress: Progress,
    report: SeedReport,
) -> None:
    customers, phones = _table(Customer), _table(CustomerPhone)
    with engine.connect() as conn:
        first_id = (conn.scalar(sa.select(sa.func.max(customers.c.id))) or 0) + 1
    report.first_customer_id = first_id
    batch: list[Row] = []
    batch_phones: list[Row] = []

    def flush() -> None:
        if not batch:
            return
        with engine.begin() as conn:
            conn.execute(customers.insert(), batch)
            conn.execute(phones.insert(), batch_phones)
        report.customers += len(batch)
        report.phones += len(batch_phones)
        progress.update(len(batch))
        batch.clear()
        batch_phones.clear()

    for customer, customer_phones in generate_customers(seed, first_id, count, now):
        batch.append(customer)
        batch_phones.extend(customer_phones)
        if len(batch) >= batch_size:
            flush()
    flush()
    if engine.dialect.name == "postgresql" and count:
        # Explicit ids do not advance the SERIAL sequence: move it past them.
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence('customers', 'id'), "
                    "(SELECT max(id) FROM customers))"
                )
            )
