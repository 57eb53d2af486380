"""Recording files on disk: facts (size, sha256, duration), waiting for MixMonitor to
finish a file, and checking a file still matches its metadata. Blocking: call these
through asyncio.to_thread.

Duration comes from the file itself: the WAV header (data size ÷ byte rate, what `soxi
-D` reports) or, for GSM (no header), 33 bytes per 20 ms frame.

Encryption at rest (kernel/at_rest.py): once a recording's facts are taken from the
plain file MixMonitor closed, `seal_in_place` replaces it with its sealed form (written
beside it, then renamed: a crash leaves the plain file or the sealed one, never half).
The row's size and sha256 stay those of the audio; `audio_of` opens either form.
"""

from __future__ import annotations

import hashlib
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from kernel.at_rest import AtRest, is_sealed

GSM_BYTES_PER_SECOND = 1650  # 50 frames of 33 bytes
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class FileFacts:
    size_bytes: int
    sha256: str
    duration_seconds: float


class MediaError(Exception):
    """The file is unreadable or not a recording we understand."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def wav_duration(path: Path) -> float:
    """Seconds of audio from the RIFF header's fmt and data chunks."""
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise MediaError(f"{path.name}: not a RIFF/WAVE file")
        byte_rate = 0
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                raise MediaError(f"{path.name}: no data chunk")
            name, size = chunk[:4], int(struct.unpack("<I", chunk[4:])[0])
            if name == b"fmt ":
                fmt = f.read(size)
                byte_rate = int(struct.unpack("<I", fmt[8:12])[0])
                continue
            if name == b"data":
                if not byte_rate:
                    raise MediaError(f"{path.name}: data before fmt")
                available = path.stat().st_size - f.tell()
                return min(size, available) / byte_rate
            f.seek(size + (size & 1), 1)


def wav_complete(path: Path) -> bool:
    """MixMonitor writes the WAV sizes when it closes the file: until then the header
    says less than the file holds."""
    try:
        with path.open("rb") as f:
            head = f.read(8)
        if len(head) < 8 or head[:4] != b"RIFF":
            return False
        riff_size = int(struct.unpack("<I", head[4:])[0])
        return riff_size + 8 == path.stat().st_size
    except OSError:
        return False


def duration_of(path: Path, fmt: str) -> float:
    if fmt == "wav":
        return wav_duration(path)
    return path.stat().st_size / GSM_BYTES_PER_SECOND


def facts_of(path: Path, fmt: str) -> FileFacts:
    try:
        return FileFacts(path.stat().st_size, sha256_of(path), round(duration_of(path, fmt), 3))
    except OSError as exc:
        raise MediaError(f"{path}: {exc}") from exc


def seal_in_place(path: Path, at_rest: AtRest) -> bool:
    """Replace the plain file with its sealed form; False when no key is set (or it
    already is sealed)."""
    if not at_rest.enabled:
        return False
    data = path.read_bytes()
    if is_sealed(data):
        return False
    partial = path.with_name(path.name + ".sealing")
    with partial.open("wb") as f:
        f.write(at_rest.seal(data))
        f.flush()
        os.fsync(f.fileno())
    os.replace(partial, path)
    return True


def file_is_sealed(path: Path) -> bool:
    with path.open("rb") as f:
        return is_sealed(f.read(16))


def audio_of(path: Path, at_rest: AtRest) -> bytes:
    """The recording's audio bytes, opened if sealed (kernel.at_rest.SealError if the
    key does not open it)."""
    return at_rest.open_bytes(path.read_bytes())


def wait_finished(path: Path, fmt: str, timeout: float, poll: float = 0.05) -> bool:
    """Wait until MixMonitor has closed the file: a complete WAV header, or (GSM) a size
    that stopped growing. False if it never appeared or never settled."""
    deadline = time.monotonic() + timeout
    last_size, stable_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        if path.exists():
            if fmt == "wav" and wav_complete(path):
                return True
            size = path.stat().st_size
            if size != last_size:
                last_size, stable_since = size, time.monotonic()
            elif fmt != "wav" and time.monotonic() - stable_since > 1.0:
                return True
        time.sleep(poll)
    return False
