"""A call recorded on the real Asterisk 22, then played through the HTTP API: a
supervisor gets exact bytes with a Range request (206), another agent is refused (403),
both audited; legal hold for supervisors only."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from db.models import Role, metadata
from devtools.services.asterisk import AsteriskInstance
from hotline.http import create_app
from hotline.services import Services
from recordings.service import RecordingService
from tests.harness.cti import CtiStack, stack_settings
from tests.harness.http_app import add_user, api_client, bearer, issuer_for, secret
from tests.harness.stub_agi import IvrScript, stub_ivr
from tests.integration.recordings.test_recordings_sandbox import AGENT_EXT, answered_call, completed

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["sqlite"])]
AUDIT = metadata.tables["audit_log"]


async def audit_rows(stack: CtiStack, recording_id: int) -> list[tuple[str, str, Any]]:
    async with stack.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(AUDIT.c.action, AUDIT.c.actor_name, AUDIT.c.detail)
            .where(AUDIT.c.object_type == "recording", AUDIT.c.object_id == str(recording_id))
            .order_by(AUDIT.c.id)
        )
        return [(r[0], r[1], r[2]) for r in rows]


async def test_supervisor_plays_a_range_other_agent_is_refused_both_audited(
    cti_stack: CtiStack, asterisk: AsteriskInstance, db_url: str
) -> None:
    settings = stack_settings(asterisk, db_url, HOTLINE_AUTH__SECRET_KEY=secret())
    services = Services(
        settings=settings,
        bus=cti_stack.bus,
        engine=cti_stack.engine,
        sessions=cti_stack.sessions,
        pbx=cti_stack.bridge.commands,
    )
    owner = await add_user(services, "agent03", Role.AGENT, AGENT_EXT, display_name="王芳")
    other = await add_user(services, "agent04", Role.AGENT, "1004")
    boss = await add_user(services, "supervisor01", Role.SUPERVISOR, "1901")
    recorder = RecordingService(services)
    await recorder.start()
    try:
        async with stub_ivr(asterisk.fastagi_port, IvrScript(skill="general")):
            linkedid = await answered_call(cti_stack, "general", hangup_after=4)
            await cti_stack.wait_ended(linkedid, 40)
        row = await completed(cti_stack, linkedid)
    finally:
        await recorder.stop()
    assert row["state"] == "completed"
    assert row["agent_id"] == owner.id
    path = Path(settings.recording.root) / row["path"]
    data = await asyncio.to_thread(path.read_bytes)

    issuer = issuer_for(services)

    def token(user: Any) -> dict[str, str]:
        t, _ = issuer.issue(
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role.value,
            extension=user.extension,
        )
        return bearer(t)

    rid = row["id"]
    async with api_client(create_app(services)) as client:
        r = await client.get(
            f"/api/recordings/{rid}/audio", headers={**token(boss), "Range": "bytes=100-1099"}
        )
        assert r.status_code == 206, r.text
        assert r.headers["content-range"] == f"bytes 100-1099/{len(data)}"
        assert r.headers["content-type"] == "audio/wav"
        assert r.headers["accept-ranges"] == "bytes"
        assert r.content == data[100:1100]

        r = await client.get(f"/api/recordings/{rid}/audio", headers=token(other))
        assert r.status_code == 403
        assert r.json()["error"] == "forbidden"
        r = await client.get(f"/api/recordings/{rid}/audio", headers=token(owner))
        assert r.status_code == 403  # agents_play_own is off in config.yaml

        r = await client.get(f"/api/recordings/{rid}/download", headers=token(boss))
        assert r.status_code == 200
        assert hashlib.sha256(r.content).hexdigest() == row["sha256"]
        assert r.headers["content-disposition"].startswith("attachment;")

        r = await client.put(
            f"/api/recordings/{rid}/legal-hold",
            json={"hold": True, "reason": "投诉复核"},
            headers=token(other),
        )
        assert r.status_code == 403
        r = await client.put(
            f"/api/recordings/{rid}/legal-hold",
            json={"hold": True, "reason": "投诉复核"},
            headers=token(boss),
        )
        assert r.status_code == 200
        r = await client.get(f"/api/recordings/{rid}", headers=token(boss))
        assert r.json()["legal_hold"] is True

        await asyncio.to_thread(path.write_bytes, data[:-2] + b"\x01\x02")
        r = await client.get(f"/api/recordings/{rid}/audio", headers=token(boss))
        assert r.status_code == 409
        assert "sha256" in r.json()["message"]

    actions = [
        (a, who, d.get("outcome"), d.get("range")) for a, who, d in await audit_rows(cti_stack, rid)
    ]
    assert actions == [
        ("recording.start", "system", None, None),
        ("recording.play", "supervisor01", "served", f"bytes 100-1099/{len(data)}"),
        ("recording.denied", "agent04", None, None),
        ("recording.denied", "agent03", None, None),
        ("recording.download", "supervisor01", "served", None),
        ("recording.legal_hold", "supervisor01", None, None),
        ("recording.play", "supervisor01", "corrupted", None),
    ]
