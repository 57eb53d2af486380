"""Serving recordings: access rule, file check, audit, alerts. HTTP-free (api.py maps).

Every request is audited (granted or denied). Before any byte is served the file is
checked against the row: it must exist and match its sha256 (the check is cached per
file size and mtime, so a browser player's many Range requests hash once). A missing
or corrupted file marks the row, raises an alert on topic "alert", and is never served.

A file sealed at rest (HOTLINE_AT_REST_KEY, recordings/media.py) is opened here: its
audio is checked against the row's sha256 like a plain file's and served from memory
(the last few opened are kept, so a player's Range requests open the file once). A
sealed file that does not open with the key is corrupted; with no key set the request
fails (503) and the row is not marked.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import RecordingState
from kernel import topics
from kernel.at_rest import AtRest, SealError
from kernel.audit import Actor
from kernel.bus.port import EventBus
from kernel.clock import Clock, SystemClock
from kernel.config.care import RecordingSettings
from recordings.access import (
    ByteRange,
    Viewer,
    if_range_allows,
    may_play,
    parse_range,
)
from recordings.errors import (
    AccessDenied,
    RecordingDeleted,
    RecordingNotFound,
    RecordingSealed,
    RecordingUnavailable,
)
from recordings.media import audio_of, file_is_sealed, sha256_of
from recordings.policy import host_path
from recordings.store import RecordingStore

CONTENT_TYPES = {"wav": "audio/wav", "gsm": "audio/x-gsm"}
_VERIFIED_KEPT = 1024
_OPENED_KEPT = 4  # sealed recordings' audio kept in memory (a few MB each)


@dataclass(frozen=True, slots=True)
class Served:
    path: Path
    size: int
    byte_range: ByteRange | None  # None: the whole file
    etag: str
    content_type: str
    filename: str
    audio: bytes | None = None  # the opened audio of a file sealed at rest


class RecordingPlayback:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: RecordingSettings,
        bus: EventBus,
        clock: Clock | None = None,
        at_rest: AtRest | None = None,
    ) -> None:
        self.store = RecordingStore(sessions)
        self._at_rest = at_rest if at_rest is not None else AtRest.from_env()
        self._opened: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
        self._settings = settings
        self._bus = bus
        self._clock = clock or SystemClock()
        self._verified: OrderedDict[tuple[str, int, int], str] = OrderedDict()

    async def open(
        self,
        recording_id: int,
        viewer: Viewer,
        *,
        download: bool = False,
        range_header: str | None = None,
        if_range: str | None = None,
        source: str | None = None,
    ) -> Served:
        """Raises RecordingNotFound, AccessDenied, RecordingDeleted, RecordingUnavailable,
        access.RangeNotSatisfiable."""
        now = self._clock.now()
        actor = Actor(viewer.id, viewer.name, viewer.role, source)
        row = await self.store.get(recording_id)
        if row is None:
            raise RecordingNotFound(f"no recording {recording_id}")
        if not may_play(viewer, row["agent_id"], self._settings.agents_play_own):
            await self.store.audit(actor, "recording.denied", recording_id, now)
            raise AccessDenied(f"{viewer.name} may not play recording {recording_id}")
        action = "recording.download" if download else "recording.play"
        if row["deleted_at"] is not None:
            await self.store.audit(actor, action, recording_id, now, outcome="deleted")
            raise RecordingDeleted(
                f"recording {recording_id} was deleted on {row['deleted_at']:%Y-%m-%d} "
                f"({row['deletion_reason'] or row['deleted_by']})"
            )
        path = host_path(self._settings, row["path"])
        problem, audio = await self._check(path, row)
        if problem is not None:
            state, message = problem
            await self.store.update(recording_id, state=state)
            await self.store.audit(actor, action, recording_id, now, outcome=state.value)
            await self._alert(recording_id, row["path"], state, message)
            raise RecordingUnavailable(recording_id, state.value, message)
        size = int(row["size_bytes"])
        etag = f'"{row["sha256"]}"'
        byte_range = parse_range(range_header, size) if if_range_allows(if_range, etag) else None
        detail: dict[str, Any] = {"outcome": "served"}
        if byte_range is not None:
            detail["range"] = byte_range.content_range(size)
        await self.store.audit(actor, action, recording_id, now, **detail)
        return Served(
            path=path,
            size=size,
            byte_range=byte_range,
            etag=etag,
            content_type=CONTENT_TYPES.get(row["format"], "application/octet-stream"),
            filename=f"recording-{recording_id}.{row['format']}",
            audio=audio,
        )

    async def _check(
        self, path: Path, row: dict[str, Any]
    ) -> tuple[tuple[RecordingState, str] | None, bytes | None]:
        """(problem or None, the opened audio when the file is sealed)."""
        if row["sha256"] is None or row["size_bytes"] is None:
            never = "the recording was never completed (no file facts)"
            return (RecordingState.MISSING, never), None
        try:
            stat = await asyncio.to_thread(path.stat)
            sealed = await asyncio.to_thread(file_is_sealed, path)
        except FileNotFoundError:
            return (RecordingState.MISSING, f"the file {row['path']} is missing"), None
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        audio: bytes | None = None
        size = stat.st_size
        if sealed:
            try:
                audio = await self._open_sealed(key, path)
            except SealError as exc:
                if not self._at_rest.enabled:
                    raise RecordingSealed(str(exc)) from None
                return (RecordingState.CORRUPTED, f"the file {row['path']}: {exc}"), None
            size = len(audio)
        digest = self._verified.get(key)
        if digest is None:
            if audio is not None:
                digest = await asyncio.to_thread(_sha256, audio)
            else:
                digest = await asyncio.to_thread(sha256_of, path)
            self._verified[key] = digest
            while len(self._verified) > _VERIFIED_KEPT:
                self._verified.popitem(last=False)
        if size != row["size_bytes"] or digest != row["sha256"]:
            return (
                RecordingState.CORRUPTED,
                f"the file {row['path']} no longer matches its checksum (sha256)",
            ), None
        return None, audio

    async def _open_sealed(self, key: tuple[str, int, int], path: Path) -> bytes:
        audio = self._opened.get(key)
        if audio is None:
            audio = await asyncio.to_thread(audio_of, path, self._at_rest)
            self._opened[key] = audio
            while len(self._opened) > _OPENED_KEPT:
                self._opened.popitem(last=False)
        else:
            self._opened.move_to_end(key)
        return audio

    async def _alert(self, recording_id: int, path: str, state: RecordingState, msg: str) -> None:
        await self._bus.publish(
            topics.ALERT,
            topics.recording_alert(
                f"recording.{state.value}",
                recording_id=recording_id,
                path=path,
                message=msg,
                at=self._clock.timestamp(),
            ),
        )

    async def set_legal_hold(
        self, recording_id: int, hold: bool, viewer: Viewer, reason: str | None, source: str | None
    ) -> bool:
        actor = Actor(viewer.id, viewer.name, viewer.role, source)
        return await self.store.set_legal_hold(recording_id, hold, actor, reason, self._clock.now())


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
