"""One CEL reader for both stores: the table cel_sqlite3_custom creates (SQLite, every
value written as text, key AcctId) and the one an administrator creates for cel_pgsql
(CEL_PGSQL_DDL: key id, eventtime double precision)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cti.cel.record import call_from_cel
from cti.cel.store import CelUnavailable, SqlCelStore
from tests.integration.cti.cel_support import fill_cel
from tests.unit.cti.cel_scenario import fixture


async def test_given_either_store_then_rows_read_back_make_the_same_calls(
    empty_db_url: str,
) -> None:
    fill_cel(empty_db_url)
    store = SqlCelStore(empty_db_url)
    try:
        assert await store.last_id() == 40
        rows = await store.rows_after(0, 1000)
        assert [r.id for r in rows] == list(range(1, 41))
        assert (await store.rows_after(30, 5))[0].id == 31
        assert len(await store.rows_after(30, 5)) == 5
        answered = [r for r in rows if r.linkedid == "fx-answered"]
        call = call_from_cel(answered)
        assert call is not None
        expected = call_from_cel(fixture("answered"))
        assert expected is not None
        assert call.snapshot() == expected.snapshot()
        assert call.caller_name == "客户01"
        tail = await store.rows_for(["fx-callback"], 30)
        assert {r.linkedid for r in tail} == {"fx-callback"}
        assert min(r.id for r in tail) == 31
    finally:
        await store.close()
    assert "secret" not in SqlCelStore("postgresql://u:secret@h/db").identity


async def test_given_a_missing_sqlite_file_then_unavailable_and_never_created(
    tmp_path: Path,
) -> None:
    path = tmp_path / "no" / "hotline-cel.db"
    store = SqlCelStore(f"sqlite:///{path}")
    with pytest.raises(CelUnavailable):
        await store.last_id()
    assert not path.exists()
    with pytest.raises(ValueError, match="identifier"):
        SqlCelStore(f"sqlite:///{path}", table="cel; drop")
