"""Databases for tests: a real PostgreSQL 15 server per session and migrated databases.

Fixtures:
- `pg_server` (session): the running server (devtools.services.postgres), or the
  server named by HOTLINE_TEST_PG (an admin URL such as postgresql://postgres@host/postgres)
  when a CI machine provides one. Tests that use it directly are `integration` tests.
- `pg_url` (session): a database created for this test session, migrated to head.
- `db_url` (per test, parametrized "sqlite" / "postgresql"): a fresh database migrated
  to head: a copy of a migrated template file for SQLite, CREATE DATABASE .. TEMPLATE on
  PostgreSQL (the PostgreSQL case carries the `integration` mark).
- `db_backend`: "sqlite" or "postgresql" for the current `db_url`.
- `db_engine` / `db_session`: an async engine and an AsyncSession on `db_url`.
- `empty_db_url` (per test, parametrized): an empty database, for migration tests.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import async_session_factory, make_async_engine
from db.migrate import upgrade
from devtools.services.postgres import PostgresServer, start_postgres

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]
_counter = itertools.count(1)


class PgAdmin(Protocol):
    def url(self, database: str = "postgres") -> str: ...
    def create_database(self, name: str, template: str | None = None) -> str: ...
    def drop_database(self, name: str) -> None: ...


@dataclass
class ExternalPostgres:
    """A server someone else runs (HOTLINE_TEST_PG); we only create and drop databases."""

    admin_url: str

    def url(self, database: str = "postgres") -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(False)

    def create_database(self, name: str, template: str | None = None) -> str:
        import psycopg
        from psycopg import sql

        query = sql.SQL("CREATE DATABASE {} ENCODING 'UTF8'").format(sql.Identifier(name))
        if template is not None:
            query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        with psycopg.connect(self._dsn(), autocommit=True) as conn:
            conn.execute(query)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self._dsn(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def _dsn(self) -> str:
        return make_url(self.admin_url).set(drivername="postgresql").render_as_string(False)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgAdmin]:
    external = os.environ.get("HOTLINE_TEST_PG")
    if external:
        yield ExternalPostgres(external)
        return
    server: PostgresServer = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _session_tag() -> str:
    return f"{os.getpid()}_{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def _pg_template(pg_server: PgAdmin, _session_tag: str) -> Iterator[str]:
    """A migrated database that per-test databases are copied from (no one connects)."""
    name = f"hotline_tpl_{_session_tag}"
    upgrade(pg_server.create_database(name))
    try:
        yield name
    finally:
        pg_server.drop_database(name)


@pytest.fixture(scope="session")
def pg_url(pg_server: PgAdmin, _pg_template: str, _session_tag: str) -> Iterator[str]:
    name = f"hotline_session_{_session_tag}"
    url = pg_server.create_database(name, template=_pg_template)
    try:
        yield url
    finally:
        pg_server.drop_database(name)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "hotline.db"
    upgrade(f"sqlite:///{path}")
    # The engine was disposed: the last connection checkpointed and removed the WAL.
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    return backend


@pytest.fixture
def db_url(db_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if db_backend == "sqlite":
        path = tmp_path / "hotline.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: PgAdmin = request.getfixturevalue("pg_server")
    template: str = request.getfixturevalue("_pg_template")
    name = f"hotline_t{next(_counter)}_{uuid.uuid4().hex[:8]}"
    url = server.create_database(name, template=template)
    try:
        yield url
    finally:
        server.drop_database(name)


@pytest.fixture
def empty_db_url(db_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: PgAdmin = request.getfixturevalue("pg_server")
    name = f"hotline_e{next(_counter)}_{uuid.uuid4().hex[:8]}"
    url = server.create_database(name)
    try:
        yield url
    finally:
        server.drop_database(name)


@pytest.fixture
async def db_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_async_engine(db_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def db_session(db_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with async_session_factory(db_engine)() as session:
        yield session
