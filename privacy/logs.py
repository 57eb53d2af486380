"""No full phone number in the server log (PIPL): while a `LogMasking` runs, every log
record's message is rewritten with `mask_phones_in_text` when it is created.

A record factory rather than a handler's filter: it sees every record of every logger
before any handler (files, the console, pytest's capture) does, whichever logger it
came from and whatever handlers are added later. Each Runtime and each HTTP app start
one; the factory stays while any of them runs (a count), and is removed after the last.
Records' exception text (tracebacks) is not rewritten.
"""

from __future__ import annotations

import logging
from typing import Any

from kernel.config.backoffice import PrivacySettings
from kernel.masking import mask_phones_in_text

_users = 0
_previous: Any = None


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: logging reports it itself later
        return record
    masked = mask_phones_in_text(message)
    if masked != message:
        record.msg, record.args = masked, None
    return record


def _factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record: logging.LogRecord = _previous(*args, **kwargs)
    return mask_record(record)


def install() -> None:
    global _users, _previous
    if _users == 0:
        _previous = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_factory)
    _users += 1


def uninstall() -> None:
    global _users, _previous
    if _users == 0:
        return
    _users -= 1
    if _users == 0:
        if logging.getLogRecordFactory() is _factory:
            logging.setLogRecordFactory(_previous)
        _previous = None


def installed() -> bool:
    return _users > 0


class LogMasking:
    """A component: masks phone numbers in log records from start() to stop(), when
    privacy.mask_logs (and mask_numbers) say so."""

    def __init__(self, settings: PrivacySettings) -> None:
        self._on = settings.mask_logs and settings.mask_numbers
        self._started = False

    async def start(self) -> None:
        if self._on and not self._started:
            install()
            self._started = True

    async def stop(self) -> None:
        if self._started:
            uninstall()
            self._started = False
