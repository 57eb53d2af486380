"""Reads Asterisk's CEL store: one reader for both stores, chosen by URL (pbx.cel.url).

- `sqlite:////var/log/asterisk/hotline-cel.db`: the file cel_sqlite3_custom writes
  (deploy/asterisk/cel_sqlite3_custom.conf), for a bridge on the Asterisk machine. Opened
  read-only: Asterisk is its only writer. Its key column is `AcctId` (made by Asterisk).
- `postgresql://reader@db/asterisk`: the table cel_pgsql writes (cel_pgsql.conf), for a
  bridge elsewhere; created by the administrator with `CEL_PGSQL_DDL` (key `id`).
Both tables carry cel_pgsql's column names and `eventtime` as epoch seconds, so one
query serves both. Rows are read in key order after a cursor (cti/cel/recovery.py):
keys only grow, so "after the last row read" needs no clock. Blocking drivers run in a
thread (asyncio.to_thread): never on the event loop.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from cti.cel.record import CelRow
from db.engine import database_url

COLUMNS = (
    "eventtype",
    "eventtime",
    "uniqueid",
    "linkedid",
    "channame",
    "context",
    "exten",
    "cid_name",
    "cid_num",
    "appname",
    "appdata",
    "peer",
    "extra",
)
# cel_pgsql fills the columns it knows by name and types eventtime by the column's type
# (float8: epoch seconds). `id` gets its DEFAULT. Kept in deploy/asterisk/README.md too.
CEL_PGSQL_DDL = (
    """CREATE TABLE IF NOT EXISTS cel (
    id bigserial PRIMARY KEY,
    eventtype text NOT NULL,
    eventtime double precision NOT NULL,
    userdeftype text, cid_name text, cid_num text, cid_ani text, cid_rdnis text,
    cid_dnid text, exten text, context text, channame text, appname text, appdata text,
    amaflags integer, accountcode text, peeraccount text, uniqueid text, linkedid text,
    userfield text, peer text, extra text
)""",
    "CREATE INDEX IF NOT EXISTS cel_linkedid ON cel (linkedid)",
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class CelUnavailable(Exception):
    """The CEL store cannot be read now (missing file, database down, wrong table)."""


class CelStore(Protocol):
    """Where the bridge reads CEL rows. `identity` names the store the keys belong to."""

    identity: str

    async def last_id(self) -> int: ...

    async def rows_after(self, last_id: int, limit: int) -> list[CelRow]: ...

    async def rows_for(self, linkedids: list[str], after_id: int) -> list[CelRow]:
        """Every row of these calls with a key above `after_id`."""
        ...

    async def close(self) -> None: ...


class SqlCelStore:
    def __init__(self, url: str, *, table: str = "cel", timeout: float = 10.0) -> None:
        if not _IDENTIFIER.match(table):
            raise ValueError(f"CEL table name {table!r} is not a plain SQL identifier")
        parsed = database_url(url, asynchronous=False)
        self.identity = parsed.render_as_string(hide_password=True)[:200]
        self._sqlite = parsed.get_backend_name() == "sqlite"
        self._url = _read_only(parsed) if self._sqlite else parsed
        self._key = "AcctId" if self._sqlite else "id"
        self._table = table
        self._timeout = timeout
        self._engine: sa.Engine | None = None

    def _connect(self) -> sa.Connection:
        if self._engine is None:
            args: dict[str, Any] = (
                {"timeout": self._timeout}
                if self._sqlite
                else {"connect_timeout": max(1, int(self._timeout))}
            )
            self._engine = sa.create_engine(self._url, poolclass=NullPool, connect_args=args)
        return self._engine.connect()

    def _query(self, sql: str, **params: Any) -> list[Any]:
        try:
            with self._connect() as conn:
                return list(conn.execute(sa.text(sql), params))
        except sa.exc.SQLAlchemyError as exc:
            raise CelUnavailable(f"CEL store {self.identity}: {exc.__class__.__name__}") from exc

    async def last_id(self) -> int:
        rows = await asyncio.to_thread(self._query, f"SELECT max({self._key}) FROM {self._table}")
        return int(rows[0][0] or 0)

    async def rows_after(self, last_id: int, limit: int) -> list[CelRow]:
        columns = ", ".join(COLUMNS)
        sql = (
            f"SELECT {self._key}, {columns} FROM {self._table} "
            f"WHERE {self._key} > :last ORDER BY {self._key} LIMIT :limit"
        )
        found = await asyncio.to_thread(self._query, sql, last=last_id, limit=limit)
        return [_row(r) for r in found]

    async def rows_for(self, linkedids: list[str], after_id: int) -> list[CelRow]:
        found: list[CelRow] = []
        columns = ", ".join(COLUMNS)
        for i in range(0, len(linkedids), 500):
            chunk = linkedids[i : i + 500]
            names = ", ".join(f":l{n}" for n in range(len(chunk)))
            sql = (
                f"SELECT {self._key}, {columns} FROM {self._table} "
                f"WHERE {self._key} > :after AND linkedid IN ({names}) ORDER BY {self._key}"
            )
            params = {f"l{n}": v for n, v in enumerate(chunk)}
            rows = await asyncio.to_thread(self._query, sql, after=after_id, **params)
            found += [_row(r) for r in rows]
        return found

    async def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _read_only(url: URL) -> URL:
    # A URI filename with mode=ro: never creates the file, never writes to it.
    path = url.database or ""
    return make_url(f"sqlite:///file:{path}?mode=ro&uri=true")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _row(r: Any) -> CelRow:
    values = dict(zip(COLUMNS, r[1:], strict=True))
    try:
        at = float(values["eventtime"])
    except (TypeError, ValueError):
        at = 0.0  # a dateformat in cel.conf would break times: such rows sort first
    return CelRow(
        id=int(r[0]),
        eventtype=_text(values["eventtype"]),
        eventtime=at,
        uniqueid=_text(values["uniqueid"]),
        linkedid=_text(values["linkedid"]),
        channame=_text(values["channame"]),
        context=_text(values["context"]),
        exten=_text(values["exten"]),
        cid_name=_text(values["cid_name"]),
        cid_num=_text(values["cid_num"]),
        appname=_text(values["appname"]),
        appdata=_text(values["appdata"]),
        peer=_text(values["peer"]),
        extra=_text(values["extra"]),
    )
