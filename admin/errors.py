"""The administration's domain errors (no HTTP codes: admin/api.py maps them)."""

from __future__ import annotations


class AdminError(Exception):
    """Base: `code` is the stable error name of the JSON body."""

    code = "invalid"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class UserNotFound(AdminError):
    code = "not_found"


class InvalidUser(AdminError):
    """A field the administration refuses (unknown skill, bad extension, weak password)."""

    code = "invalid_user"


class UserConflict(AdminError):
    """The username or the extension is taken; the admin's own account cannot be disabled."""

    code = "conflict"


class InvalidCalendar(AdminError):
    code = "invalid_calendar"


class CalendarEntryNotFound(AdminError):
    code = "not_found"
