"""Recording on the real Asterisk 22: MixMonitor per policy on answer, the file's
duration and metadata in the database, on-demand pause/resume/stop, all audited."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from db.models import metadata
from devtools.services.asterisk import AsteriskInstance
from hotline.services import Services
from kernel.audit import Actor
from kernel.config import Settings
from recordings.media import wav_duration
from recordings.service import RecordingService
from tests.harness.cti import CtiStack
from tests.harness.stub_agi import IvrScript, stub_ivr
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["sqlite"])]
RECORDINGS = metadata.tables["recordings"]
AUDIT = metadata.tables["audit_log"]
AGENT_EXT = "1003"


def with_recording(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"recording": settings.recording.model_copy(update=changes)})


@pytest.fixture
async def agent_user(cti_stack: CtiStack) -> int:
    async with cti_stack.engine.begin() as conn:
        result = await conn.execute(
            sa.insert(metadata.tables["users"])
            .values(
                username="agent03",
                display_name="王芳",
                role="agent",
                extension=AGENT_EXT,
                languages=["zh"],
                password_hash="x",
            )
            .returning(metadata.tables["users"].c.id)
        )
        return int(result.scalar_one())


@pytest.fixture
async def make_service(cti_stack: CtiStack) -> AsyncIterator[Any]:
    started: list[RecordingService] = []

    async def make(**recording: Any) -> RecordingService:
        services = Services(
            settings=with_recording(cti_stack.settings, **recording),
            bus=cti_stack.bus,
            engine=cti_stack.engine,
            sessions=cti_stack.sessions,
            pbx=cti_stack.bridge.commands,
        )
        service = RecordingService(services)
        await service.start()
        started.append(service)
        return service

    yield make
    for service in started:
        await service.stop()


async def answered_call(stack: CtiStack, skill: str, hangup_after: float) -> str:
    """A caller through the stub IVR into hold-<skill>, connected to agent 1003."""
    linkedid = await stack.call(hangup_after=hangup_after)
    box: dict[str, str] = {}

    async def waiting() -> bool:
        for e in await stack.bridge.commands.queue_entries():
            if e.uniqueid.startswith(linkedid):
                box["channel"] = e.channel
                return True
        return False

    await eventually(waiting, 15, f"{linkedid} waiting in hold-{skill}")
    await stack.bridge.commands.redirect(box["channel"], context="hotline-connect", exten=AGENT_EXT)
    return linkedid


async def recording_rows(stack: CtiStack, linkedid: str) -> list[dict[str, Any]]:
    async with stack.engine.connect() as conn:
        rows = await conn.execute(sa.select(RECORDINGS).where(RECORDINGS.c.linkedid == linkedid))
        return [dict(r._mapping) for r in rows]


async def completed(stack: CtiStack, linkedid: str) -> dict[str, Any]:
    async def done() -> bool:
        rows = await recording_rows(stack, linkedid)
        return bool(rows) and rows[0]["state"] not in ("recording", "paused")

    await eventually(done, 30, f"recording of {linkedid} completed")
    return (await recording_rows(stack, linkedid))[0]


async def audit_actions(stack: CtiStack, recording_id: int) -> list[str]:
    async with stack.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(AUDIT.c.action)
            .where(AUDIT.c.object_type == "recording", AUDIT.c.object_id == str(recording_id))
            .order_by(AUDIT.c.id)
        )
        return [r.action for r in rows]


async def test_given_queue_policy_when_calls_are_answered_then_only_listed_queues_are_recorded(
    cti_stack: CtiStack, asterisk: AsteriskInstance, agent_user: int, make_service: Any
) -> None:
    await make_service(mode="queues", queues=["general"])
    script = IvrScript(skill="general")
    async with stub_ivr(asterisk.fastagi_port, script):
        recorded = await answered_call(cti_stack, "general", hangup_after=6)
        call = await cti_stack.wait_ended(recorded, 40)
        script.skill = "billing"
        skipped = await answered_call(cti_stack, "billing", hangup_after=2)
        skipped_call = await cti_stack.wait_ended(skipped, 40)

    row = await completed(cti_stack, recorded)
    assert row["state"] == "completed"
    assert row["agent_id"] == agent_user
    assert row["call_id"] == call["id"]
    path = Path(cti_stack.settings.recording.root) / row["path"]
    assert path.exists()
    data = path.read_bytes()
    assert row["size_bytes"] == len(data) > 44
    assert row["sha256"] == hashlib.sha256(data).hexdigest()
    assert call["talk_seconds"] > 2
    # MixMonitor starts an AMI round trip after the answer (later under load), and
    # the file ends with the call: it covers the talk time less that start delay.
    assert -0.5 <= call["talk_seconds"] - wav_duration(path) <= 2.0
    assert row["duration_seconds"] == pytest.approx(wav_duration(path), abs=0.01)
    relinked = await cti_stack.call_row(recorded)
    assert relinked is not None
    assert relinked["recording_id"] == row["id"]
    assert await audit_actions(cti_stack, row["id"]) == ["recording.start"]

    assert skipped_call["disposition"] == "answered"
    assert await recording_rows(cti_stack, skipped) == []


async def test_on_demand_start_pause_resume_stop_are_recorded_and_audited(
    cti_stack: CtiStack, asterisk: AsteriskInstance, agent_user: int, make_service: Any
) -> None:
    service: RecordingService = await make_service(mode="on_demand")
    supervisor = Actor(name="supervisor01", role="supervisor")
    async with stub_ivr(asterisk.fastagi_port, IvrScript(skill="general")):
        linkedid = await answered_call(cti_stack, "general", hangup_after=30)
        await eventually(lambda: bool(cti_stack.bridge.tracker.calls[linkedid].agents), 15)
        await eventually(lambda: linkedid in service._calls, 5)
        assert await recording_rows(cti_stack, linkedid) == []  # on demand: nothing yet

        recording_id = await service.start_recording(linkedid, supervisor)
        await service.pause(linkedid, supervisor)
        (row,) = await recording_rows(cti_stack, linkedid)
        assert row["state"] == "paused"
        await asyncio.sleep(0.5)  # some audio while paused (silence) -- the timeline
        await service.resume(linkedid, supervisor)
        await asyncio.sleep(1.0)
        assert await service.stop_recording(linkedid, supervisor) == recording_id
        await cti_stack.bridge.commands.hangup(
            next(
                c.channel
                for c in await cti_stack.bridge.commands.channels()
                if c.linkedid == linkedid
            )
        )
        await cti_stack.wait_ended(linkedid, 30)

    row = await completed(cti_stack, linkedid)
    assert row["state"] == "completed"
    assert row["duration_seconds"] == pytest.approx(1.5, abs=1.0)
    assert await audit_actions(cti_stack, recording_id) == [
        "recording.start",
        "recording.pause",
        "recording.resume",
        "recording.stop",
    ]
