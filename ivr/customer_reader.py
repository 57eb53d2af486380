"""The IVR's read path: one indexed select per lookup, no ORM, no cache, no thread hop.

    reader = CustomerReader(services)
    info = await reader.by_phone("13912345678")       # CustomerInfo | None
    info = await reader.by_account("310000123456")
    version = await reader.calendar_version()          # changes with every calendar edit
    await reader.close()

Every call to the hotline starts with a lookup by caller ID, so it must stay well under
a millisecond on 1,000,000 customers while the server is loaded (bench/ivr_fastagi.py).
The ORM path (ivr/directory.py) builds a Customer object and loads its phones with a
second query: about 1.6 ms p50 and 9 ms p99 on SQLite. Here:

- SQLite: one plain sqlite3 connection (`query_only`, memory-mapped) runs the prepared
  select on the event loop itself. An indexed read of pages in the OS page cache takes
  tens of microseconds, less than handing it to a worker thread, and a thread also
  waits for the GIL while the loop is busy (up to the 5 ms switch interval: 1.5-4 ms
  p99 measured in the loaded server). It cannot wait for a writer: in WAL mode readers
  never block, and the connection's busy_timeout is 0, so in the rare case SQLite
  answers "busy" (WAL recovery, a checkpoint reset) the lookup is retried on a worker
  thread whose connection waits, bounded by the IVR's lookup deadline. Every select is
  its own read transaction, so a lookup sees every committed change.
  Amounts are stored as REAL by SQLite's NUMERIC affinity and come back rounded to
  cents, as db/types.Money does.
- PostgreSQL: a few connections of the reader's own (autocommit), not the SQLAlchemy
  pool, spoken to through libpq (psycopg's pq layer): one prepared statement per
  lookup, one round trip, no SQL compilation or adaptation. Its reply is waited for on
  the loop's thread for up to a millisecond, then through the loop (see _PgReader).
- Anything else (SQLite in memory, in tests): the same select as SQLAlchemy Core on the
  shared async engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import select
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import metadata
from db.phones import normalize_phone
from hotline.services import Services
from ivr.script import CustomerInfo

CENT = Decimal("0.01")
_C = metadata.tables["customers"]
_P = metadata.tables["customer_phones"]
_COLUMNS = (
    _C.c.id,
    _C.c.name,
    _C.c.account_number,
    _C.c.tier,
    _C.c.language,
    _C.c.district,
    _C.c.balance,
    _C.c.arrears,
    _C.c.last_payment_on,
    _C.c.last_payment_amount,
    _C.c.pin_hash,
)
# customers/lookup.holder as one select: a shared number (a family, a landlord) answers
# with its primary holder, then the oldest.
_COLS_SQL = ", ".join(f"c.{c.name}" for c in _COLUMNS)
_SQL = {
    "phone": f"SELECT {_COLS_SQL} FROM customer_phones p JOIN customers c ON c.id = p.customer_id"
    " WHERE p.number = ? ORDER BY p.is_primary DESC, c.id LIMIT 1",
    "account": f"SELECT {_COLS_SQL} FROM customers c WHERE c.account_number = ? LIMIT 1",
    # kernel/business_calendar.overrides_version: counts and last edit times of the
    # administration page's calendar rows (the tables are small: days and weeks).
    "calendar": "SELECT (SELECT count(*) FROM calendar_days), (SELECT max(updated_at) FROM"
    " calendar_days), (SELECT count(*) FROM calendar_weeks), (SELECT max(updated_at) FROM"
    " calendar_weeks)",
}
PHONE_AND_CALENDAR = "phone+calendar"
_CALENDAR_COLUMNS = 4
_CORE = {kind: sa.text(sql.replace("?", ":key")) for kind, sql in _SQL.items()}
_NO_KEY: tuple[str, ...] = ()
_PG_NUMBERED = {kind: sql.replace("?", "$1") for kind, sql in _SQL.items()}
# PostgreSQL: the caller-ID lookup and the calendar's version in one round trip, since
# the IVR asks both at the start of every call (ReaderDirectory). Always one row: the
# version, then the customer's columns (NULL when no one has that number).
_PG_NUMBERED[PHONE_AND_CALENDAR] = (
    f"SELECT v.*, x.* FROM ({_SQL['calendar']}) v"
    f" LEFT JOIN LATERAL ({_PG_NUMBERED['phone']}) x ON true"
)
PG_CONNECTIONS = 2  # lookups are one short round trip each; two keep a slow one from queueing
INLINE_WAIT = 0.001  # seconds a PostgreSQL reply is waited for on the loop's thread
RETRY_INLINE_AFTER = 1.0  # seconds of waiting through the loop once an inline wait ran out


class _Backend(Protocol):
    async def one(self, kind: str, key: tuple[str, ...]) -> tuple[Any, ...] | None:
        """The first row of query `kind` with `key` (its parameters: one, or none)."""
        ...

    async def close(self) -> None: ...


class CustomerReader:
    def __init__(
        self,
        services: Services,
        *,
        pg_connections: int = PG_CONNECTIONS,
        pg_inline_wait: float = INLINE_WAIT,
    ) -> None:
        url = make_url(services.settings.database.url)
        path = url.database or ""
        backend = url.get_backend_name()
        self._backend: _Backend
        if backend == "sqlite" and path and path != ":memory:" and not path.startswith("file:"):
            self._backend = _SqliteReader(path)
        elif backend in ("postgresql", "postgres"):
            dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._backend = _PgReader(dsn, pg_connections, inline_wait=pg_inline_wait)
        else:
            self._backend = _CoreReader(services.engine)

    async def by_phone(self, number: str) -> CustomerInfo | None:
        phone = normalize_phone(number)
        if not phone:
            return None
        row = await self._backend.one("phone", (phone,))
        return _info(row) if row is not None else None

    async def by_account(self, account: str) -> CustomerInfo | None:
        if not account:
            return None
        row = await self._backend.one("account", (account,))
        return _info(row) if row is not None else None

    async def by_phone_and_calendar(
        self, number: str
    ) -> tuple[CustomerInfo | None, tuple[str, ...] | None]:
        """by_phone, and on PostgreSQL the calendar's version (as calendar_version)
        read in the same round trip; None elsewhere, where calendar_version() is an
        inline select."""
        phone = normalize_phone(number)
        if not phone or not isinstance(self._backend, _PgReader):
            return await self.by_phone(number), None
        row = await self._backend.one(PHONE_AND_CALENDAR, (phone,))
        if row is None:  # cannot happen: the version's row is always there
            return None, None
        version, customer = row[:_CALENDAR_COLUMNS], row[_CALENDAR_COLUMNS:]
        found = _info(customer) if customer[0] is not None else None
        return found, tuple(str(v) for v in version)

    async def calendar_version(self) -> tuple[str, ...]:
        """Changes whenever a calendar row is added, edited or removed."""
        row = await self._backend.one("calendar", _NO_KEY)
        return tuple(str(v) for v in row or ())

    async def close(self) -> None:
        await self._backend.close()


class _SqliteReader:
    """Inline on the event loop (see the module's docstring); a busy database goes to
    one worker thread whose connection waits for it."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    async def one(self, kind: str, key: tuple[str, ...]) -> tuple[Any, ...] | None:
        sql = _SQL[kind]
        try:
            if self._conn is None:
                self._conn = self._connect(busy_ms=0)
            row: tuple[Any, ...] | None = self._conn.execute(sql, key).fetchone()
            return row
        except sqlite3.OperationalError:  # busy or locked: wait for it off the loop
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="ivr-lookup")
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, self._waiting, sql, key)

    def _waiting(self, sql: str, key: tuple[str, ...]) -> tuple[Any, ...] | None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect(busy_ms=5000)
        row: tuple[Any, ...] | None = conn.execute(sql, key).fetchone()
        return row

    def _connect(self, *, busy_ms: int) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA query_only = 1")
        # Pages are read in place from the OS page cache instead of copied per read.
        conn.execute("PRAGMA mmap_size = 1073741824")
        conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        with self._lock:
            self._opened.append(conn)
        return conn

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        with self._lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()
        self._conn = None


class _PgReader:
    """A few connections of its own, spoken to through libpq directly (psycopg's pq
    layer): one prepared statement per query, sent, and its reply waited for on the
    event loop's thread for up to INLINE_WAIT, then through the loop (add_reader).

    Why wait inline: a lookup's round trip is about 0.1 ms, 35 µs of it CPU. Waited for
    through the loop, the reply sits there while the loop serves other callers (1.3 ms
    p99 in the loaded server, bench/ivr_fastagi.py). A PostgreSQL that stalls (a lock,
    a failover) must not freeze the process's callers, so the inline wait is bounded,
    and once it runs out the reader waits through the loop for RETRY_INLINE_AFTER
    before it tries inline again: a stall costs the loop one INLINE_WAIT, not one per
    lookup.

    Connections come from a LIFO queue (None: not yet open, or dropped after an error
    or a cancelled wait, whose state is unknown)."""

    def __init__(self, dsn: str, size: int, *, inline_wait: float = INLINE_WAIT) -> None:
        self._dsn = dsn
        self._size = max(1, size)
        self._inline_wait = inline_wait
        self._inline_from = 0.0  # time.monotonic() from which an inline wait is tried
        self._idle: asyncio.LifoQueue[_PgConn | None] | None = None
        self._all: set[_PgConn] = set()

    async def one(self, kind: str, key: tuple[str, ...]) -> tuple[Any, ...] | None:
        if self._idle is None:
            self._idle = asyncio.LifoQueue()
            for _ in range(self._size):
                self._idle.put_nowait(None)
        idle = self._idle
        conn = await idle.get()
        try:
            if conn is None or conn.closed:
                conn = await _PgConn.open(self._dsn)
                self._all.add(conn)
            conn.send(kind, key)
            if not self._waited_inline(conn):
                await conn.wait()
            row = conn.row()
        except BaseException:
            if conn is not None:
                self._all.discard(conn)
                await conn.close()
            idle.put_nowait(None)
            raise
        idle.put_nowait(conn)
        return row

    def _waited_inline(self, conn: _PgConn) -> bool:
        now = time.monotonic()
        if self._inline_wait <= 0 or now < self._inline_from:
            return False
        if conn.wait_inline(self._inline_wait):
            return True
        self._inline_from = time.monotonic() + RETRY_INLINE_AFTER
        return False

    async def close(self) -> None:
        for conn in list(self._all):
            await conn.close()
        self._all.clear()
        self._idle = None


class _PgConn:
    """One connection's libpq object: the reader's statements prepared once, then sent
    and read without psycopg's query machinery (no adaptation, no cursor). Values come
    back as text, which _info converts as it does SQLite's."""

    def __init__(self, owner: Any) -> None:
        from psycopg import pq  # here, once per connection: SQLite installs never load it

        self._owner = owner  # the psycopg AsyncConnection: it opened and closes the socket
        self._rows_ok = pq.ExecStatus.TUPLES_OK
        self._command_ok = pq.ExecStatus.COMMAND_OK
        self._pg = owner.pgconn
        self._encoding = owner.info.encoding
        self._poll = select.poll()
        self._poll.register(self._pg.socket, select.POLLIN)

    @classmethod
    async def open(cls, dsn: str) -> _PgConn:
        import psycopg

        owner = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
        conn = cls(owner)
        try:
            for kind, sql in _PG_NUMBERED.items():
                conn._pg.send_prepare(kind.encode(), sql.encode())
                conn._flush()
                await conn.wait()
                conn._result(expect_rows=False)
        except BaseException:
            await conn.close()
            raise
        return conn

    @property
    def closed(self) -> bool:
        return bool(self._owner.closed)

    def send(self, kind: str, key: tuple[str, ...]) -> None:
        self._pg.send_query_prepared(kind.encode(), [k.encode(self._encoding) for k in key])
        self._flush()

    def _flush(self) -> None:
        # Nonblocking (psycopg's connect sets it): a few hundred bytes go at once; a
        # socket buffer that is full means a connection in trouble.
        if self._pg.flush():
            raise _pq_error("the query could not be sent at once")

    def wait_inline(self, budget: float) -> bool:
        """Read the reply on this thread for up to `budget` seconds; True once whole."""
        deadline = time.perf_counter() + budget
        pg = self._pg
        while pg.is_busy():
            left = deadline - time.perf_counter()
            if left <= 0 or not self._poll.poll(left * 1000.0):
                return False
            pg.consume_input()
        return True

    async def wait(self) -> None:
        """Read the reply through the event loop."""
        pg = self._pg
        pg.consume_input()
        if not pg.is_busy():
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            if done.done():
                return
            try:
                pg.consume_input()
                if not pg.is_busy():
                    done.set_result(None)
            except Exception as exc:
                done.set_exception(exc)

        fd = pg.socket
        loop.add_reader(fd, readable)
        try:
            await done
        finally:
            loop.remove_reader(fd)

    def row(self) -> tuple[Any, ...] | None:
        res = self._result(expect_rows=True)
        if not res.ntuples:
            return None
        enc = self._encoding
        values = (res.get_value(0, i) for i in range(res.nfields))
        return tuple(None if v is None else v.decode(enc) for v in values)

    def _result(self, *, expect_rows: bool) -> Any:
        res = self._pg.get_result()
        while self._pg.get_result() is not None:  # the end of this query's results
            pass
        ok = self._rows_ok if expect_rows else self._command_ok
        if res is None or res.status != ok:
            message = res.error_message.decode(self._encoding, "replace") if res else ""
            raise _pq_error(message or "no result")
        return res

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._owner.close()


def _pq_error(message: str) -> Exception:
    import psycopg

    return psycopg.OperationalError(f"customer lookup: {message}")


class _CoreReader:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def one(self, kind: str, key: tuple[str, ...]) -> tuple[Any, ...] | None:
        async with self._engine.connect() as conn:
            params = {"key": key[0]} if key else {}
            found = (await conn.execute(_CORE[kind], params)).first()
        return tuple(found) if found is not None else None

    async def close(self) -> None:
        return None


def _money(value: Any) -> Decimal:
    if isinstance(value, float):
        return Decimal(f"{value:.2f}")
    return Decimal(str(value)).quantize(CENT)


def _day(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _text(value: Any) -> str:
    return str(getattr(value, "value", value))  # PostgreSQL enums may come back as StrEnum


def _info(row: tuple[Any, ...]) -> CustomerInfo:
    cid, name, account, tier, language, district, balance, arrears, paid_on, paid, pin = row
    return CustomerInfo(
        id=int(cid),
        name=str(name),
        account_number=str(account),
        tier=_text(tier),
        language=_text(language),
        district=str(district or ""),
        balance=_money(balance),
        arrears=_money(arrears),
        last_payment_on=_day(paid_on),
        last_payment_amount=_money(paid) if paid is not None else None,
        pin_hash=str(pin) if pin else None,
    )
