"""A CEL table filled with recorded calls, on either store (tests/fixtures/cel)."""

from __future__ import annotations

import sqlalchemy as sa

from cti.cel.store import CEL_PGSQL_DDL, COLUMNS
from db.engine import make_sync_engine
from tests.unit.cti.cel_scenario import fixture

# The statement cel_sqlite3_custom ran in the sandbox (deploy/asterisk/cel_sqlite3_custom.conf).
ASTERISK_SQLITE_DDL = (
    "CREATE TABLE cel (AcctId INTEGER PRIMARY KEY, eventtype,eventtime,cid_name,cid_num,"
    "cid_ani,cid_dnid,exten,context,channame,appname,appdata,uniqueid,linkedid,peer,"
    "userdeftype,extra)"
)


def fill_cel(url: str) -> None:
    """A CEL table as Asterisk makes it (SQLite) or an administrator does (cel_pgsql), with
    the answered call's rows (1-25) and then the callback's (26-40)."""
    rows = fixture("answered") + fixture("callback")
    engine = make_sync_engine(url)
    try:
        with engine.begin() as conn:
            sqlite = conn.dialect.name == "sqlite"
            for ddl in (ASTERISK_SQLITE_DDL,) if sqlite else CEL_PGSQL_DDL:
                conn.execute(sa.text(ddl))
            names = ", ".join(COLUMNS)
            marks = ", ".join(f":{c}" for c in COLUMNS)
            for r in rows:
                values = {c: getattr(r, c) for c in COLUMNS}
                if sqlite:  # Asterisk writes every value as quoted text
                    values["eventtime"] = f"{r.eventtime:.6f}"
                conn.execute(sa.text(f"INSERT INTO cel ({names}) VALUES ({marks})"), values)
    finally:
        engine.dispose()
