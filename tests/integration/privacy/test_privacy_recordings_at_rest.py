"""Recordings encrypted at rest (HOTLINE_AT_REST_KEY): a call recorded on the real
Asterisk 22 is sealed once MixMonitor has closed it, so the file on disk is not a WAV
(no RIFF header, no audio bytes in it); playback through the API opens it (whole file,
HTTP Range, download) with the bytes the row's sha256 names; a key that does not open
it is never served; the retention purge still removes it."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from pathlib import Path

import pytest

from db.models import Role
from devtools.services.asterisk import AsteriskInstance
from hotline.http import create_app
from hotline.services import Services
from kernel.at_rest import KEY_ENV, MAGIC, new_key
from kernel.clock import FakeClock
from recordings.retention import RetentionJob
from recordings.service import RecordingService
from tests.harness.cti import CtiStack, stack_settings
from tests.harness.http_app import add_user, api_client, bearer, issuer_for, secret
from tests.harness.stub_agi import IvrScript, stub_ivr
from tests.integration.recordings.test_recordings_sandbox import answered_call, completed

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["sqlite"])]


async def test_given_a_key_then_the_recording_on_disk_is_sealed_and_plays_through_the_api(
    cti_stack: CtiStack,
    asterisk: AsteriskInstance,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KEY_ENV, new_key())
    settings = stack_settings(asterisk, db_url, HOTLINE_AUTH__SECRET_KEY=secret())
    services = Services(
        settings=settings,
        bus=cti_stack.bus,
        engine=cti_stack.engine,
        sessions=cti_stack.sessions,
        pbx=cti_stack.bridge.commands,
    )
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
    path = Path(settings.recording.root) / row["path"]
    on_disk = await asyncio.to_thread(path.read_bytes)
    assert on_disk.startswith(MAGIC)
    assert b"RIFF" not in on_disk[:64]
    assert b"WAVE" not in on_disk[:64]
    assert hashlib.sha256(on_disk).hexdigest() != row["sha256"]
    assert len(on_disk) != row["size_bytes"]

    token, _ = issuer_for(services).issue(
        user_id=boss.id or 0,
        username=boss.username,
        display_name=boss.display_name,
        role="supervisor",
        extension=boss.extension,
    )
    rid, size = row["id"], row["size_bytes"]
    async with api_client(create_app(services)) as client:
        whole = await client.get(f"/api/recordings/{rid}/audio", headers=bearer(token))
        assert whole.status_code == 200, whole.text
        audio = whole.content
        assert (audio[:4], audio[8:12]) == (b"RIFF", b"WAVE")
        assert len(audio) == size == int(whole.headers["content-length"])
        assert hashlib.sha256(audio).hexdigest() == row["sha256"]
        ranged = await client.get(
            f"/api/recordings/{rid}/audio", headers={**bearer(token), "Range": "bytes=100-1099"}
        )
        assert ranged.status_code == 206, ranged.text
        assert ranged.headers["content-range"] == f"bytes 100-1099/{size}"
        assert ranged.content == audio[100:1100]
        tail = await client.get(
            f"/api/recordings/{rid}/audio", headers={**bearer(token), "Range": "bytes=-10"}
        )
        assert tail.content == audio[-10:]
        download = await client.get(f"/api/recordings/{rid}/download", headers=bearer(token))
        assert download.status_code == 200
        assert download.content == audio

    # A process with no key never serves it (503, the row untouched); another key sees
    # a file that does not open: corrupted (409). The key is read once per process.
    monkeypatch.delenv(KEY_ENV)
    services.features.recording_playback = None
    async with api_client(create_app(services)) as client:
        r = await client.get(f"/api/recordings/{rid}/audio", headers=bearer(token))
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "recording_sealed"
    monkeypatch.setenv(KEY_ENV, new_key())
    services.features.recording_playback = None
    async with api_client(create_app(services)) as client:
        r = await client.get(f"/api/recordings/{rid}/audio", headers=bearer(token))
        assert r.status_code == 409, r.text
        assert r.json()["error"] == "recording_corrupted"

    # The retention purge removes the sealed file like a plain one.
    later = FakeClock(dt.datetime.now(dt.UTC) + dt.timedelta(days=400))
    report = await RetentionJob(services.sessions, settings.recording, later).run()
    assert rid in report.deleted
    assert not report.failed
    assert not path.exists()
