"""The running backend's PostgreSQL sessions cannot wait forever: a lock wait ends after
lock_timeout, an orphaned open transaction after idle_in_transaction_session_timeout."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from db.engine import make_async_engine

pytestmark = pytest.mark.integration


async def test_runtime_sessions_carry_the_guards(pg_url: str) -> None:
    engine = make_async_engine(pg_url)
    try:
        async with engine.connect() as conn:
            lock = (await conn.execute(sa.text("SHOW lock_timeout"))).scalar_one()
            idle = (
                await conn.execute(sa.text("SHOW idle_in_transaction_session_timeout"))
            ).scalar_one()
        assert (lock, idle) == ("15s", "1min")
    finally:
        await engine.dispose()


async def test_a_writer_blocked_by_an_orphaned_transaction_gets_an_error_not_a_hang(
    pg_url: str,
) -> None:
    # The guard shortened for the test (same mechanism, seconds instead of minutes).
    engine = make_async_engine(pg_url, connect_args={"options": "-c lock_timeout=1s"})
    table = f"guard_{id(engine)}"
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(f"CREATE TABLE {table} (id int PRIMARY KEY, n int)"))
            await conn.execute(sa.text(f"INSERT INTO {table} VALUES (1, 0)"))
        holder = await engine.connect()
        await holder.begin()
        await holder.execute(sa.text(f"UPDATE {table} SET n = 1 WHERE id = 1"))  # row locked
        try:
            async with engine.begin() as conn:
                with pytest.raises(DBAPIError, match="lock timeout"):
                    await asyncio.wait_for(
                        conn.execute(sa.text(f"UPDATE {table} SET n = 2 WHERE id = 1")), 10
                    )
        finally:
            await holder.rollback()
            await holder.close()
        async with engine.begin() as conn:
            await conn.execute(sa.text(f"DROP TABLE {table}"))
    finally:
        await engine.dispose()
