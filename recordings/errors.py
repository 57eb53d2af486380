"""Domain errors of recordings/ (mapped to HTTP in recordings/api.py only)."""

from __future__ import annotations


class RecordingError(Exception):
    pass


class NoActiveRecording(RecordingError):
    """The call is not being recorded (nothing to pause, resume or stop)."""


class CallNotLive(RecordingError):
    """The call has no live channel to record (ended, or not answered yet)."""


class RecordingNotFound(RecordingError):
    pass


class RecordingDeleted(RecordingError):
    """Removed by the retention job (the row says when and why)."""


class RecordingUnavailable(RecordingError):
    """The file is missing or no longer matches its sha256: reported, never served."""

    def __init__(self, recording_id: int, state: str, message: str) -> None:
        self.recording_id = recording_id
        self.state = state  # "missing" | "corrupted"
        super().__init__(message)


class AccessDenied(RecordingError):
    pass


class RecordingSealed(RecordingError):
    """The file is encrypted at rest and this process has no HOTLINE_AT_REST_KEY."""
