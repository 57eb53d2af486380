"""Shared fixtures of the CTI unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import make_async_engine
from db.models import metadata


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    """An in-memory SQLite database with every table: the call log's own."""
    engine = make_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()
