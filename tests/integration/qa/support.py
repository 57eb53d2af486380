"""What the QA tests share: answered calls with a real small WAV recording on disk (the
recordings API plays it: checked against its sha256), users, tokens by role."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import math
import struct
import wave
from pathlib import Path

import sqlalchemy as sa

from db.models import Call, metadata
from hotline.services import Services
from tests.harness.http_app import add_call

RECORDINGS = metadata.tables["recordings"]
CALLS = metadata.tables["calls"]


def wav_bytes(seconds: float = 0.5, hz: int = 440, rate: int = 8000) -> bytes:
    """A mono 16-bit PCM tone: a real WAV file a browser can play."""
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / rate)))
        for i in range(int(seconds * rate))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out.getvalue()


async def recorded_call(
    services: Services,
    linkedid: str,
    agent_id: int,
    *,
    started: dt.datetime | None = None,
    audio: bytes | None = None,
) -> tuple[Call, int]:
    """An answered call of `agent_id` with a completed recording (file under
    recording.root); (call, recording id)."""
    call = await add_call(services, linkedid, agent_id=agent_id, started=started)
    data = audio if audio is not None else wav_bytes()
    relative = f"qa/{linkedid}.wav"
    root = Path(services.settings.recording.root)
    await asyncio.to_thread((root / "qa").mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread((root / relative).write_bytes, data)
    at = call.started_at
    async with services.engine.begin() as conn:
        result = await conn.execute(
            sa.insert(RECORDINGS)
            .values(
                call_id=call.id,
                linkedid=linkedid,
                agent_id=agent_id,
                path=relative,
                state="completed",
                started_at=at,
                ended_at=at,
                duration_seconds=0.5,
                size_bytes=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                created_at=at,
            )
            .returning(RECORDINGS.c.id)
        )
        recording_id = int(result.scalar_one())
        await conn.execute(
            sa.update(CALLS).where(CALLS.c.id == call.id).values(recording_id=recording_id)
        )
    return call, recording_id
