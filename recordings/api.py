"""HTTP: play, download and hold recordings; start/pause/resume/stop on a live call.

    GET  /api/recordings/{id}            metadata
    GET  /api/recordings/{id}/audio      the browser player (Range: bytes=..., 206)
    GET  /api/recordings/{id}/download   the file as an attachment (Range too)
    PUT  /api/recordings/{id}/legal-hold {"hold": true, "reason": "..."}  supervisor, admin

Supervisors, QA and admins hear everything; agents their own calls only when
recording.agents_play_own is set. Every request is audited. A missing (410) or corrupted
(409) file is reported with a message and an alert, never served. Starting, pausing,
resuming and stopping a live call's recording are RecordingService methods
(services.features.recordings); the desk and supervisor APIs expose them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from agent_api.auth import Principal, require_roles
from agent_api.deps import ServicesDep, client_address
from agent_api.errors import AccessDenied, ApiError, NotFound, error_responses
from db.models import Role
from hotline.services import Services
from recordings import errors as e
from recordings.access import RangeNotSatisfiable, Viewer, may_play
from recordings.playback import RecordingPlayback, Served

router = APIRouter(prefix="/api/recordings", tags=["recordings"])
Anyone = Annotated[Principal, require_roles(Role.AGENT, Role.SUPERVISOR, Role.QA, Role.ADMIN)]
Holder = Annotated[Principal, require_roles(Role.SUPERVISOR, Role.ADMIN)]
RecordingId = Annotated[int, Path(ge=1, le=2**53)]  # fits BIGINT and SQLite INTEGER
CHUNK = 256 * 1024


class LegalHold(BaseModel):
    hold: bool
    reason: str | None = Field(default=None, max_length=200)


def _viewer(user: Principal) -> Viewer:
    return Viewer(user.id, user.username, user.role.value)


def _playback(services: Services) -> RecordingPlayback:
    """One per process: it caches which files were verified against their sha256."""
    playback = services.features.recording_playback
    if playback is None:
        playback = RecordingPlayback(
            services.sessions, services.settings.recording, services.bus, services.clock
        )
        services.features.recording_playback = playback
    assert isinstance(playback, RecordingPlayback)
    return playback


def _http(exc: Exception) -> ApiError:
    if isinstance(exc, e.RecordingNotFound):
        return NotFound(str(exc))
    if isinstance(exc, e.AccessDenied):
        return AccessDenied(str(exc))
    if isinstance(exc, e.RecordingDeleted):
        return ApiError(410, "recording_deleted", str(exc))
    if isinstance(exc, e.RecordingUnavailable):
        if exc.state == "corrupted":
            return ApiError(409, "recording_corrupted", str(exc))
        return ApiError(410, "recording_missing", str(exc))
    if isinstance(exc, e.RecordingSealed):
        return ApiError(503, "recording_sealed", str(exc))
    raise exc


@router.get("/{recording_id}", responses=error_responses(401, 403, 404))
async def metadata(recording_id: RecordingId, services: ServicesDep, user: Anyone) -> Any:
    playback = _playback(services)
    row = await playback.store.get(recording_id)
    if row is None:
        raise NotFound(f"no recording {recording_id}")
    if not may_play(_viewer(user), row["agent_id"], services.settings.recording.agents_play_own):
        raise AccessDenied(f"{user.username} may not see recording {recording_id}")
    keep = ("id", "call_id", "linkedid", "agent_id", "format", "state", "started_at",
            "ended_at", "duration_seconds", "size_bytes", "sha256", "legal_hold",
            "legal_hold_reason", "deleted_at", "deletion_reason")  # fmt: skip
    return {k: row[k].isoformat() if hasattr(row[k], "isoformat") else row[k] for k in keep}


async def _serve(
    request: Request,
    services: Services,
    user: Principal,
    recording_id: int,
    *,
    download: bool,
    range_header: str | None,
    if_range: str | None,
) -> Response:
    try:
        served = await _playback(services).open(
            recording_id,
            _viewer(user),
            download=download,
            range_header=range_header,
            if_range=if_range,
            source=client_address(request),
        )
    except RangeNotSatisfiable as exc:
        return JSONResponse(
            {"error": "range_not_satisfiable", "message": str(exc)},
            status_code=416,
            headers={"Content-Range": f"bytes */{exc.size}"},
        )
    except e.RecordingError as exc:
        raise _http(exc) from None
    return _response(served, download)


def _response(served: Served, download: bool) -> Response:
    """The audio from the file, or (sealed at rest) from the bytes playback opened."""
    start, length = 0, served.size
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": served.etag,
        "Cache-Control": "private, no-store",
        "Content-Disposition": (
            f'{"attachment" if download else "inline"}; filename="{served.filename}"'
        ),
    }
    status = 200
    if served.byte_range is not None:
        start, length = served.byte_range.start, served.byte_range.length
        headers["Content-Range"] = served.byte_range.content_range(served.size)
        status = 206
    headers["Content-Length"] = str(length)
    chunks = (
        _slices(served.audio, start, length)
        if served.audio is not None
        else _chunks(served.path, start, length)
    )
    return StreamingResponse(
        chunks,
        status_code=status,
        media_type=served.content_type,
        headers=headers,
    )


async def _chunks(path: FsPath, start: int, length: int) -> AsyncIterator[bytes]:
    # Each chunk opens, reads and closes the file in a worker thread: no handle stays
    # open when the player drops the connection mid-stream (it does, seeking).
    offset, end = start, start + length
    while offset < end:
        data = await asyncio.to_thread(_read_at, path, offset, min(CHUNK, end - offset))
        if not data:
            break
        offset += len(data)
        yield data


async def _slices(audio: bytes, start: int, length: int) -> AsyncIterator[bytes]:
    for offset in range(start, start + length, CHUNK):
        yield audio[offset : min(offset + CHUNK, start + length)]


def _read_at(path: FsPath, offset: int, size: int) -> bytes:
    with path.open("rb") as f:
        f.seek(offset)
        return f.read(size)


_PLAY_ERRORS = error_responses(401, 403, 404, 409, 410, 416, 503)


@router.get("/{recording_id}/audio", responses=_PLAY_ERRORS)
async def audio(
    request: Request,
    recording_id: RecordingId,
    services: ServicesDep,
    user: Anyone,
    range_: Annotated[str | None, Header(alias="Range")] = None,
    if_range: Annotated[str | None, Header(alias="If-Range")] = None,
) -> Response:
    return await _serve(
        request, services, user, recording_id, download=False, range_header=range_,
        if_range=if_range,
    )  # fmt: skip


@router.get("/{recording_id}/download", responses=_PLAY_ERRORS)
async def download(
    request: Request,
    recording_id: RecordingId,
    services: ServicesDep,
    user: Anyone,
    range_: Annotated[str | None, Header(alias="Range")] = None,
    if_range: Annotated[str | None, Header(alias="If-Range")] = None,
) -> Response:
    return await _serve(
        request, services, user, recording_id, download=True, range_header=range_,
        if_range=if_range,
    )  # fmt: skip


@router.put("/{recording_id}/legal-hold", responses=error_responses(401, 403, 404))
async def legal_hold(
    request: Request,
    recording_id: RecordingId,
    body: LegalHold,
    services: ServicesDep,
    user: Holder,
) -> dict[str, Any]:
    found = await _playback(services).set_legal_hold(
        recording_id, body.hold, _viewer(user), body.reason, client_address(request)
    )
    if not found:
        raise NotFound(f"no recording {recording_id}")
    return {"id": recording_id, "legal_hold": body.hold, "reason": body.reason}
