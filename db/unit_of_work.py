"""Retry a whole transaction when SQLite reports the database locked.

SQLite has one writer; busy_timeout makes a second writer wait, but a transaction that
read first and then wants to write after another connection committed fails at once
(SQLITE_BUSY_SNAPSHOT in WAL mode). Such a transaction is simply run again from the
start. PostgreSQL serialises with row locks (SELECT .. FOR UPDATE) and never hits this.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import OperationalError

T = TypeVar("T")
ATTEMPTS = 8


def _locked(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return "database is locked" in text or "database table is locked" in text


async def retry_locked(work: Callable[[], Awaitable[T]]) -> T:
    for attempt in range(ATTEMPTS):
        try:
            return await work()
        except OperationalError as exc:
            if not _locked(exc) or attempt == ATTEMPTS - 1:
                raise
            await asyncio.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    raise AssertionError("unreachable")
