"""Engines and sessions from the configured database URL.

config.yaml names a database, not a driver: `sqlite:///var/hotline.db` (a path relative
to the working directory) or `postgresql://user@host/db`. This module picks the drivers:
aiosqlite / pysqlite for SQLite, psycopg 3 for PostgreSQL (sync and async alike).

Sessions never lazy-load: relationships are either always loaded (selectin) or raise,
because a lazy load under asyncio fails (MissingGreenlet). Load what you need with
`selectinload(...)` in the query.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel.ext.asyncio.session import AsyncSession

SQLITE_BUSY_TIMEOUT_MS = 10_000

_DRIVERS: dict[str, tuple[str, str]] = {
    # backend: (sync driver, async driver)
    "sqlite": ("sqlite", "sqlite+aiosqlite"),
    "postgresql": ("postgresql+psycopg", "postgresql+psycopg"),
}


class UnsupportedDatabase(ValueError):
    pass


def database_url(url: str | URL, *, asynchronous: bool) -> URL:
    """The configured URL with the driver Hotline uses for it."""
    parsed = make_url(url) if isinstance(url, str) else url
    backend = parsed.get_backend_name()
    if backend == "postgres":
        backend = "postgresql"
    if backend not in _DRIVERS:
        raise UnsupportedDatabase(
            f"unsupported database {parsed.drivername!r}: use sqlite:/// or postgresql://"
        )
    sync_driver, async_driver = _DRIVERS[backend]
    return parsed.set(drivername=async_driver if asynchronous else sync_driver)


def backend_name(url: str | URL) -> str:
    """'sqlite' or 'postgresql'."""
    return database_url(url, asynchronous=False).get_backend_name()


def _json_dumps(value: Any) -> str:
    # Chinese stays readable in the database (and in psql), not \\u-escaped.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _prepare_sqlite(url: URL) -> None:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # foreign_keys is off by default in SQLite and is per connection; WAL lets readers
    # (reports, the API) run while the call log writes; busy_timeout waits for the
    # single writer instead of failing at once; synchronous=FULL syncs every commit, so
    # a power cut cannot take back a call record the bridge was told was written.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


# The running backend never waits on PostgreSQL without end: a statement blocked on a row
# lock fails after lock_timeout (every writer logs and retries), and a session left idle
# inside a transaction (a task cancelled mid-write) is ended by the server after
# idle_in_transaction_session_timeout, releasing its locks. Without these, one orphaned
# transaction stalls the call log or the router's writes forever. Migrations and seeding
# (the sync engine) keep the server's defaults: they may legitimately wait for locks.
PG_RUNTIME_CONNECT_ARGS: dict[str, Any] = {
    "connect_timeout": 10,
    "options": "-c lock_timeout=15s -c idle_in_transaction_session_timeout=60s",
}


def make_sync_engine(url: str | URL, **kwargs: Any) -> Engine:
    """A blocking engine: migrations, `hotline-dev seed`, scripts. Not for the event loop."""
    real = database_url(url, asynchronous=False)
    kwargs.setdefault("json_serializer", _json_dumps)
    if real.get_backend_name() == "sqlite":
        _prepare_sqlite(real)
        engine = create_engine(real, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(real, **kwargs)


def make_async_engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    """The engine the running backend uses (aiosqlite or psycopg async)."""
    real = database_url(url, asynchronous=True)
    kwargs.setdefault("json_serializer", _json_dumps)
    if real.get_backend_name() == "sqlite":
        _prepare_sqlite(real)
        engine = create_async_engine(real, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", PG_RUNTIME_CONNECT_ARGS)
    return create_async_engine(real, **kwargs)


def async_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (no implicit reload = no lazy
    I/O on attribute access)."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
