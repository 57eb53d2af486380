"""A recording's rows survive a busy SQLite: the file exists (Asterisk recorded it), so
its completion and its audit entry are written again when the database answers
"database is locked" (the capacity soak lost such writes under load)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import make_async_engine
from db.models import metadata
from kernel.audit import Actor
from recordings.store import RecordingStore

AT = dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC)


async def test_completion_and_audit_are_retried_while_the_database_is_locked() -> None:
    engine = make_async_engine("sqlite+aiosqlite://")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        real = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        failures = 0

        def sessions() -> Any:  # the next `failures` transactions find the database busy
            nonlocal failures
            if failures:
                failures -= 1
                raise sa.exc.OperationalError("BEGIN", {}, Exception("database is locked"))
            return real()

        store = RecordingStore(sessions)  # type: ignore[arg-type]
        rid = await store.create(
            linkedid="1796438042.9364", path="2026/12/05/x.wav", fmt="wav",
            agent_id=None, started_at=AT, call_started=None,
        )  # fmt: skip
        failures = 2
        await store.complete(rid, AT + dt.timedelta(seconds=30), duration_seconds=30.0)
        failures = 2
        await store.audit(Actor.system("recordings"), "recording.start", rid, AT, call="x")
        assert failures == 0
        async with engine.connect() as conn:
            row = (await conn.execute(sa.select(metadata.tables["recordings"]))).one()
            calls = (await conn.execute(sa.select(metadata.tables["calls"]))).one()
            audits = (await conn.execute(sa.select(metadata.tables["audit_log"]))).all()
        assert row.ended_at is not None
        assert row.duration_seconds == 30.0
        assert calls.recording_id == rid
        assert [a.action for a in audits] == ["recording.start"]
    finally:
        await engine.dispose()
