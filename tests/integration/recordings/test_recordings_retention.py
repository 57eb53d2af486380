"""Retention on SQLite and PostgreSQL: exactly the expired, unheld recordings lose their
files; rows stay, marked deleted; every deletion and hold is audited."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import async_session_factory
from db.models import metadata
from hotline.cli import main
from kernel.audit import Actor
from kernel.clock import FakeClock
from kernel.config.care import RecordingSettings
from recordings.retention import RetentionJob
from recordings.store import RecordingStore

NOW = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)
REPO = Path(__file__).resolve().parents[3]
T = metadata.tables
# id: (age of the recording in days, legal hold, already deleted)
CASES: dict[int, tuple[float, bool, bool]] = {
    1: (200, False, False),  # expired
    2: (181, False, False),  # expired
    3: (179, False, False),  # kept: not old enough
    4: (300, True, False),  # kept: legal hold
    5: (400, False, True),  # already deleted earlier
    6: (190, False, False),  # expired, but its file is already gone
}


async def seed(engine: AsyncEngine, root: Path) -> None:
    async with engine.begin() as conn:
        for rid, (age, hold, deleted) in CASES.items():
            ended = NOW - dt.timedelta(days=age)
            call = await conn.execute(
                sa.insert(T["calls"])
                .values(linkedid=f"c{rid}", started_at=ended, ivr_path=[], agents=[])
                .returning(T["calls"].c.id)
            )
            path = f"2026/01/01/c{rid}.wav"
            await conn.execute(
                sa.insert(T["recordings"]).values(
                    id=rid,
                    call_id=call.scalar_one(),
                    linkedid=f"c{rid}",
                    path=path,
                    state="deleted" if deleted else "completed",
                    started_at=ended - dt.timedelta(minutes=3),
                    ended_at=ended,
                    legal_hold=hold,
                    deleted_at=NOW - dt.timedelta(days=30) if deleted else None,
                    deleted_by="retention" if deleted else None,
                    created_at=ended,
                )
            )
            if not deleted and rid != 6:
                (root / path).parent.mkdir(parents=True, exist_ok=True)
                (root / path).write_bytes(b"RIFF....WAVE" + bytes(100))


async def rows(engine: AsyncEngine) -> dict[int, dict[str, Any]]:
    async with engine.connect() as conn:
        result = await conn.execute(sa.select(T["recordings"]).order_by(T["recordings"].c.id))
        return {r.id: dict(r._mapping) for r in result}


async def audit(engine: AsyncEngine) -> list[tuple[str, str, str]]:
    async with engine.connect() as conn:
        result = await conn.execute(
            sa.select(
                T["audit_log"].c.action, T["audit_log"].c.object_id, T["audit_log"].c.actor_name
            )
            .where(T["audit_log"].c.object_type == "recording")
            .order_by(T["audit_log"].c.id)
        )
        return [(r[0], r[1], r[2]) for r in result]


async def test_retention_deletes_exactly_the_expired_unheld_recordings(
    db_engine: AsyncEngine, tmp_path: Path
) -> None:
    await seed(db_engine, tmp_path)
    settings = RecordingSettings(root=str(tmp_path), retention_days=180)
    job = RetentionJob(async_session_factory(db_engine), settings, FakeClock(NOW))

    preview = await job.run(dry_run=True)
    assert [r.id for r in preview.selected] == [1, 2, 6]
    assert (tmp_path / "2026/01/01/c1.wav").exists()  # a dry run touches nothing

    report = await job.run()
    assert report.deleted == [1, 2, 6]
    assert report.file_already_gone == [6]
    assert not report.failed
    files = {p.name for p in await asyncio.to_thread(lambda: list(tmp_path.rglob("*.wav")))}
    assert files == {"c3.wav", "c4.wav"}
    after = await rows(db_engine)
    assert set(after) == set(CASES)  # rows are never deleted
    for rid in (1, 2, 6):
        assert after[rid]["deleted_at"] == NOW
        assert after[rid]["deleted_by"] == "retention"
        assert after[rid]["state"] == "deleted"
        assert "180 days" in after[rid]["deletion_reason"]
    for rid in (3, 4):
        assert after[rid]["deleted_at"] is None
    assert after[5]["deleted_at"] == NOW - dt.timedelta(days=30)  # untouched
    assert await audit(db_engine) == [
        ("recording.purge", "1", "retention"),
        ("recording.purge", "2", "retention"),
        ("recording.purge", "6", "retention"),
    ]
    assert (await job.run()).deleted == []  # idempotent


async def test_legal_hold_set_and_released_is_audited_and_respected(
    db_engine: AsyncEngine, tmp_path: Path
) -> None:
    await seed(db_engine, tmp_path)
    sessions = async_session_factory(db_engine)
    store = RecordingStore(sessions)
    supervisor = Actor(name="supervisor01", role="supervisor")
    assert await store.set_legal_hold(1, True, supervisor, "投诉调查 #GD-000123", NOW)
    assert await store.set_legal_hold(4, False, supervisor, None, NOW)
    assert not await store.set_legal_hold(999, True, supervisor, "x", NOW)
    settings = RecordingSettings(root=str(tmp_path), retention_days=180)
    report = await RetentionJob(sessions, settings, FakeClock(NOW)).run()
    assert report.deleted == [2, 4, 6]
    held = (await rows(db_engine))[1]
    assert held["legal_hold"] is True
    assert held["legal_hold_reason"] == "投诉调查 #GD-000123"
    assert (tmp_path / "2026/01/01/c1.wav").exists()
    assert (await audit(db_engine))[:2] == [
        ("recording.legal_hold", "1", "supervisor01"),
        ("recording.legal_hold_released", "4", "supervisor01"),
    ]


@pytest.mark.parametrize("db_backend", ["sqlite"])
def test_purge_command_dry_run_lists_and_keeps(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from db.engine import make_async_engine

    async def prepare() -> None:
        engine = make_async_engine(db_url)
        await seed(engine, tmp_path)
        await engine.dispose()

    asyncio.run(prepare())
    monkeypatch.setenv("HOTLINE_DATABASE__URL", db_url)
    monkeypatch.setenv("HOTLINE_RECORDING__ROOT", str(tmp_path))
    monkeypatch.setenv("HOTLINE_RECORDING__RETENTION_DAYS", "100000")  # nothing is that old
    assert main(["--config", str(REPO / "config.yaml"), "recordings", "purge", "--dry-run"]) == 0
    assert "would delete 0 recording(s)" in capsys.readouterr().out
    monkeypatch.setenv("HOTLINE_RECORDING__RETENTION_DAYS", "1")
    assert main(["--config", str(REPO / "config.yaml"), "recordings", "purge", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would delete 4 recording(s)" in out  # all but the held and the deleted one
    assert (tmp_path / "2026/01/01/c1.wav").exists()
