"""Issue 8, "Must show" 1 end to end on the real Asterisk 22, all through the HTTP API:
a recorded agent call; the supervisor's (Local channel) phone listens to it, then
whispers, then barges in (ChanSpy options read from the AMI events of the sandbox's
read=all account), and hangs up; the caller hangs up; the recording file exists with the
call's duration; the supervisor plays it with a range request (206) while another agent
is refused (403); both accesses and every spy action are in the audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from db.models import Role, metadata
from devtools.services.asterisk import AsteriskInstance
from hotline.http import create_app
from recordings.media import wav_duration
from recordings.service import RecordingService
from tests.harness.cti import CtiStack
from tests.harness.http_app import add_user, api_client, bearer, login
from tests.harness.stub_agi import IvrScript, stub_ivr
from tests.integration.supervisor.support import (
    AGENT_EXT,
    AGENT_PREFIX,
    AUDIT,
    BOSS_EXT,
    agent_call,
    hang_up_all,
    spy_services,
    tracing,
)
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["sqlite"])]
RECORDINGS = metadata.tables["recordings"]


async def test_spied_call_is_recorded_and_only_the_supervisor_may_play_it(
    cti_stack: CtiStack, asterisk: AsteriskInstance, db_url: str
) -> None:
    services = spy_services(cti_stack, asterisk, db_url, HOTLINE_RECORDING__MODE="all")
    agent = await add_user(services, "agent03", Role.AGENT, AGENT_EXT, display_name="王芳")
    await add_user(services, "agent04", Role.AGENT, "1004", display_name="李娜")
    await add_user(services, "boss", Role.SUPERVISOR, BOSS_EXT, display_name="陈主管")
    recorder = RecordingService(services)
    await recorder.start()
    try:
        async with (
            tracing(asterisk) as trace,
            stub_ivr(asterisk.fastagi_port, IvrScript(skill="general")),
            api_client(create_app(services)) as client,
        ):
            boss = bearer(await login(client, "boss"))
            other = bearer(await login(client, "agent04"))
            linkedid = await agent_call(cti_stack, hangup_after=10)

            r = await client.post(
                f"/api/supervisor/agents/{agent.id}/spy", headers=boss, json={"mode": "listen"}
            )
            assert r.status_code == 201, r.text
            sid = r.json()["session_id"]
            await eventually(lambda: bool(trace.spy_starts(sid)), 30, "listening")
            for n, mode in enumerate(("whisper", "barge"), start=2):
                r = await client.put(
                    f"/api/supervisor/spy/{sid}", headers=boss, json={"mode": mode}
                )
                assert r.status_code == 200, r.text
                await eventually(lambda n=n: len(trace.spy_starts(sid)) == n, 30, mode)  # type: ignore[misc]
            assert trace.chanspy_data(sid) == [
                f"{AGENT_PREFIX},qEb",
                f"{AGENT_PREFIX},qEwb",
                f"{AGENT_PREFIX},qEBb",
            ]
            assert {f["SpyeeLinkedid"] for f in trace.spy_starts(sid)} == {linkedid}
            assert (
                await client.delete(f"/api/supervisor/spy/{sid}", headers=boss)
            ).status_code == 204
            await eventually(lambda: bool(trace.of("Hangup", Uniqueid=sid)), 30, "spy hung up")

            # The caller hangs up by itself (HANGUP_AFTER): the call had its own length.
            call = await cti_stack.wait_ended(linkedid, 40)

            async def completed() -> bool:
                async with services.engine.connect() as conn:
                    row = (
                        await conn.execute(
                            sa.select(RECORDINGS).where(RECORDINGS.c.linkedid == linkedid)
                        )
                    ).first()
                return row is not None and row.state == "completed"

            await eventually(completed, 40, "the recording completed")
            async with services.engine.connect() as conn:
                (rec,) = await conn.execute(
                    sa.select(RECORDINGS).where(RECORDINGS.c.linkedid == linkedid)
                )
            path = Path(services.settings.recording.root) / rec.path
            assert path.exists()
            assert rec.agent_id == agent.id
            assert call["talk_seconds"] >= 4
            assert rec.duration_seconds == pytest.approx(wav_duration(path), abs=0.01)
            # MixMonitor starts an AMI round trip after the answer (later under load), and
            # the file ends with the call: it covers the talk time less that start delay.
            assert -0.5 <= call["talk_seconds"] - wav_duration(path) <= 2.0

            r = await client.get(
                f"/api/recordings/{rec.id}/audio", headers={**boss, "Range": "bytes=0-99"}
            )
            assert r.status_code == 206, r.text
            assert r.headers["content-range"] == f"bytes 0-99/{rec.size_bytes}"
            assert r.content == path.read_bytes()[:100]
            r = await client.get(f"/api/recordings/{rec.id}/audio", headers=other)
            assert r.status_code == 403, r.text
    finally:
        await recorder.stop()
        await hang_up_all(cti_stack)

    async with services.engine.connect() as conn:
        rows = list(await conn.execute(sa.select(AUDIT).order_by(AUDIT.c.id)))
    spy = [(r.action, r.detail["outcome"]) for r in rows if r.action.startswith("supervisor.")]
    assert spy == [
        ("supervisor.listen", "done"),
        ("supervisor.spy_mode", "done"),
        ("supervisor.spy_mode", "done"),
        ("supervisor.spy_stop", "done"),
    ]
    plays = [
        (r.action, r.actor_name, r.detail.get("range"))
        for r in rows
        if r.object_type == "recording" and r.action in ("recording.play", "recording.denied")
    ]
    assert plays == [
        ("recording.play", "boss", f"bytes 0-99/{rec.size_bytes}"),
        ("recording.denied", "agent04", None),
    ]
