"""Playback service on SQLite and PostgreSQL: ranges, the access rule, audit of every
request, and missing or corrupted files reported (409/410 at the API), never served."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import async_session_factory
from db.models import metadata
from kernel.bus.memory import MemoryBus
from kernel.clock import FakeClock
from kernel.config.care import RecordingSettings
from recordings.access import ByteRange, RangeNotSatisfiable, Viewer
from recordings.errors import AccessDenied, RecordingDeleted, RecordingUnavailable
from recordings.playback import RecordingPlayback

T = metadata.tables
NOW = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)
AUDIO = bytes(range(256)) * 40  # 10,240 bytes
SUPERVISOR = Viewer(1, "supervisor01", "supervisor")
OWNER = Viewer(2, "agent02", "agent")
OTHER = Viewer(3, "agent03", "agent")


@dataclass
class Fixture:
    playback: RecordingPlayback
    bus: MemoryBus
    root: Path
    engine: AsyncEngine


async def add_recording(engine: AsyncEngine, root: Path, rid: int, **extra: Any) -> Path:
    path = f"2026/11/23/c{rid}.wav"
    async with engine.begin() as conn:
        call = await conn.execute(
            sa.insert(T["calls"])
            .values(linkedid=f"c{rid}", started_at=NOW, ivr_path=[], agents=[])
            .returning(T["calls"].c.id)
        )
        values: dict[str, Any] = dict(
            id=rid,
            call_id=call.scalar_one(),
            linkedid=f"c{rid}",
            path=path,
            state="completed",
            agent_id=2,
            started_at=NOW,
            ended_at=NOW,
            size_bytes=len(AUDIO),
            sha256=hashlib.sha256(AUDIO).hexdigest(),
            created_at=NOW,
        )
        values.update(extra)
        await conn.execute(sa.insert(T["recordings"]).values(**values))
    file = root / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(AUDIO)
    return file


async def audit(engine: AsyncEngine) -> list[tuple[str, str, str]]:
    async with engine.connect() as conn:
        result = await conn.execute(
            sa.select(T["audit_log"].c.action, T["audit_log"].c.actor_name, T["audit_log"].c.detail)
            .where(T["audit_log"].c.object_type == "recording")
            .order_by(T["audit_log"].c.id)
        )
        return [(r[0], r[1], r[2].get("outcome", "")) for r in result]


@pytest.fixture
async def fx(db_engine: AsyncEngine, tmp_path: Path) -> Fixture:
    async with db_engine.begin() as conn:
        for uid, viewer in enumerate((SUPERVISOR, OWNER, OTHER), start=1):
            await conn.execute(
                sa.insert(T["users"]).values(
                    id=uid,
                    username=viewer.name,
                    display_name=viewer.name,
                    role=viewer.role,
                    languages=[],
                    password_hash="x",
                )
            )
    bus = MemoryBus()
    settings = RecordingSettings(root=str(tmp_path), agents_play_own=True)
    playback = RecordingPlayback(async_session_factory(db_engine), settings, bus, FakeClock(NOW))
    return Fixture(playback, bus, tmp_path, db_engine)


async def test_supervisor_gets_a_range_owner_may_play_other_agent_is_refused(fx: Fixture) -> None:
    await add_recording(fx.engine, fx.root, 1)
    served = await fx.playback.open(1, SUPERVISOR, range_header="bytes=100-199")
    assert served.byte_range == ByteRange(100, 199)
    assert served.size == len(AUDIO)
    assert served.content_type == "audio/wav"
    whole = await fx.playback.open(1, OWNER, download=True)
    assert whole.byte_range is None
    with pytest.raises(AccessDenied):
        await fx.playback.open(1, OTHER)
    with pytest.raises(RangeNotSatisfiable):
        await fx.playback.open(1, SUPERVISOR, range_header=f"bytes={len(AUDIO)}-")
    assert (await audit(fx.engine))[:3] == [
        ("recording.play", "supervisor01", "served"),
        ("recording.download", "agent02", "served"),
        ("recording.denied", "agent03", ""),
    ]


async def test_corrupted_and_missing_files_are_reported_marked_and_alerted(fx: Fixture) -> None:
    corrupted = await add_recording(fx.engine, fx.root, 1)
    missing = await add_recording(fx.engine, fx.root, 2)
    await fx.playback.open(1, SUPERVISOR)  # verified (and cached) while intact
    await asyncio.to_thread(corrupted.write_bytes, AUDIO[:-1] + b"\x00")
    await asyncio.to_thread(missing.unlink)
    alerts = await fx.bus.subscribe("alert")
    with pytest.raises(RecordingUnavailable) as bad:
        await fx.playback.open(1, SUPERVISOR)
    assert bad.value.state == "corrupted"
    assert "sha256" in str(bad.value)
    with pytest.raises(RecordingUnavailable) as gone:
        await fx.playback.open(2, SUPERVISOR)
    assert gone.value.state == "missing"
    kinds = [(await alerts.get(timeout=2)).data["type"] for _ in range(2)]
    assert kinds == ["recording.corrupted", "recording.missing"]
    async with fx.engine.connect() as conn:
        states = dict(
            (await conn.execute(sa.select(T["recordings"].c.id, T["recordings"].c.state))).all()
        )
    assert states == {1: "corrupted", 2: "missing"}
    outcomes = [o for _, _, o in await audit(fx.engine)]
    assert outcomes == ["served", "corrupted", "missing"]


async def test_a_deleted_recording_says_when_and_why(fx: Fixture) -> None:
    await add_recording(
        fx.engine,
        fx.root,
        1,
        deleted_at=NOW,
        deleted_by="retention",
        deletion_reason="retention: older than 180 days",
        state="deleted",
    )
    with pytest.raises(RecordingDeleted, match="180 days"):
        await fx.playback.open(1, SUPERVISOR)
