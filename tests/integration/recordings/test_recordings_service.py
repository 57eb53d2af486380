"""RecordingService over the bus with the fake PBX (no Asterisk), on SQLite and
PostgreSQL: the agents policy by username, the caller's channel, a file that never
appears (missing + alert), a recording carried over when Asterisk merges two calls."""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.commands import ChannelInfo
from cti.fake_pbx import FakePbx
from db.engine import async_session_factory
from db.models import metadata
from hotline.services import Services
from kernel.bus.memory import MemoryBus
from kernel.config import load_settings
from recordings.service import RecordingService
from tests.support import eventually

REPO = Path(__file__).resolve().parents[3]
T = metadata.tables


def snapshot(call_id: str, agent: str | None = "1003", skill: str = "repair") -> dict[str, Any]:
    return {"call_id": call_id, "agent": agent, "skill": skill, "started_at": time.time()}


def event(kind: str, call_id: str, seq: int, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "call_id": call_id, "seq": seq, "at": time.time(),
            "call": snapshot(call_id), **extra}  # fmt: skip


def channel(uid: str, linkedid: str, name: str, bridge: str = "B1") -> ChannelInfo:
    return ChannelInfo(uid, linkedid, name, "ctx", "s", "Up", "", bridge, "0")


def wav(seconds: float) -> bytes:
    data = bytes(int(16000 * seconds))
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + b"fmt "
            + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data)) + data)  # fmt: skip


@pytest.fixture
async def setup(
    db_engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[tuple[RecordingService, FakePbx, MemoryBus, Path]]:
    async with db_engine.begin() as conn:
        await conn.execute(
            sa.insert(T["users"]).values(
                id=7,
                username="agent03",
                display_name="王芳",
                role="agent",
                extension="1003",
                languages=[],
                password_hash="x",
            )
        )
    settings = load_settings(
        REPO / "config.yaml",
        env={
            "HOTLINE_RECORDING__MODE": "agents",
            "HOTLINE_RECORDING__AGENTS": '["agent03"]',
            "HOTLINE_RECORDING__ROOT": str(tmp_path),
            "HOTLINE_RECORDING__ASTERISK_ROOT": "/srv/hotline/rec",
        },
    )
    bus, pbx = MemoryBus(), FakePbx()
    services = Services(settings, bus, db_engine, async_session_factory(db_engine), pbx=pbx)
    service = RecordingService(services)
    service.file_timeout = 0.3
    await service.start()
    yield service, pbx, bus, tmp_path
    await service.stop()
    await bus.close()


async def rows(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        result = await conn.execute(sa.select(T["recordings"]).order_by(T["recordings"].c.id))
        return [dict(r._mapping) for r in result]


async def test_agents_policy_records_the_callers_channel_and_reports_a_missing_file(
    setup: tuple[RecordingService, FakePbx, MemoryBus, Path], db_engine: AsyncEngine
) -> None:
    service, pbx, bus, _ = setup
    pbx.live = [
        channel("c1-2", "c1", "Local/95777@hotline-inbound-0001;2"),
        channel("c1-3", "c1", "Local/1003@hotline-test-agent-0002;1"),
    ]
    alerts = await bus.subscribe("alert")
    await bus.publish("call", event("call.answered", "c1", 5))
    await eventually(lambda: "start_recording" in pbx.names(), 5)
    (_, args) = next(c for c in pbx.commands if c[0] == "start_recording")
    assert args["channel"] == "Local/95777@hotline-inbound-0001;2"
    assert args["path"].startswith("/srv/hotline/rec/")
    assert args["path"].endswith("/c1.wav")
    await eventually(lambda: service.active_recording("c1") is not None, 5)
    assert service.agent_of("c1") == "1003"

    await bus.publish("call", event("call.ended", "c1", 9))  # MixMonitor wrote nothing
    alert = await alerts.get(timeout=5)
    assert alert.data["type"] == "recording.missing"
    (row,) = await rows(db_engine)
    assert (row["state"], row["agent_id"], row["linkedid"]) == ("missing", 7, "c1")


async def test_unlisted_agent_is_not_recorded_and_a_merge_carries_the_recording(
    setup: tuple[RecordingService, FakePbx, MemoryBus, Path], db_engine: AsyncEngine
) -> None:
    service, pbx, bus, root = setup
    other = event("call.answered", "c2", 3)
    other["call"]["agent"] = "1004"  # not in recording.agents
    await bus.publish("call", other)
    pbx.live = [
        channel("c3-2", "c3", "Local/95777@hotline-inbound-0003;2"),
        channel("c3-3", "c3", "Local/1003@hotline-test-agent-0004;1"),
    ]
    await bus.publish("call", event("call.answered", "c3", 4))
    await eventually(lambda: service.active_recording("c3") is not None, 5)
    assert [c for c, _ in pbx.commands].count("start_recording") == 1
    recording_id = service.active_recording("c3")

    await bus.publish("call", event("call.merged", "c2", 6, merged_call_id="c3"))
    await eventually(lambda: service.active_recording("c2") == recording_id, 5)
    (row,) = await rows(db_engine)
    await asyncio.to_thread(_write, root / row["path"], wav(2.5))
    await bus.publish("call", event("call.ended", "c2", 7))

    async def done() -> bool:
        return bool((await rows(db_engine))[0]["state"] == "completed")

    await eventually(done, 5)
    (row,) = await rows(db_engine)
    assert row["duration_seconds"] == 2.5
    assert row["size_bytes"] == 44 + 40000


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
