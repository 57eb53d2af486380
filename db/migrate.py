"""Run the Alembic migrations in db/migrations programmatically (no alembic.ini).

    upgrade(url)              # create or upgrade the schema to the newest revision
    schema_diff(url)          # what differs between the models and the database ([] = none)
    make_revision(url, msg)   # developers: autogenerate a new revision, then review it

These are blocking calls: from async code run them in a thread (asyncio.to_thread).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, types
from sqlalchemy.engine import URL
from sqlalchemy.sql.schema import SchemaItem

from db.engine import make_sync_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str | URL, engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # env.py reads these (attributes, not options: a URL may contain '%').
    cfg.attributes["hotline_url"] = url
    cfg.attributes["hotline_engine"] = engine
    return cfg


def upgrade(url: str | URL, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | URL, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def current_revision(url: str | URL) -> str | None:
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def make_revision(url: str | URL, message: str) -> None:
    """Autogenerate a revision against a database migrated to head (review the result!)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)


def schema_diff(url: str | URL) -> list[Any]:
    """Alembic's differences between the models and the database's schema."""
    from db.models import metadata

    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts=autogenerate_options(conn.dialect.name))
            diff: list[Any] = compare_metadata(context, metadata)
            return diff
    finally:
        engine.dispose()


# --- autogenerate settings shared by env.py and schema_diff --------------------------


def autogenerate_options(dialect: str) -> dict[str, Any]:
    return {
        "compare_type": True,
        "compare_server_default": False,
        "render_as_batch": True,  # SQLite alters tables by copying them
        "include_object": _include_object_for(dialect),
        "render_item": render_item,
    }


def _include_object_for(dialect: str) -> Any:
    def include_object(
        obj: SchemaItem, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        # Dialect-specific indexes (Index(...).ddl_if(dialect=...)) exist only there.
        ddl_if = getattr(obj, "_ddl_if", None)
        if ddl_if is not None and ddl_if.dialect is not None:
            return bool(ddl_if.dialect == dialect)
        # Alembic's own bookkeeping and anything that is not ours (FTS shadow tables).
        return not (type_ == "table" and reflected and compare_to is None)

    return include_object


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Write column types into revisions as plain SQLAlchemy types, so a revision keeps
    meaning the same schema whatever later happens to db/types.py."""
    if type_ != "type":
        return False
    if isinstance(obj, types.Enum) and not obj.native_enum:
        return f"sa.String(length={obj.length})"
    if isinstance(obj, types.TypeDecorator):
        impl = obj.impl_instance
        if isinstance(impl, types.String) and impl.length:
            return f"sa.String(length={impl.length})"
        if isinstance(impl, types.String):
            return "sa.String()"
        return f"sa.{impl!r}"
    if isinstance(obj, types.JSON) and obj._variant_mapping:
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')"
    if isinstance(obj, types.BigInteger) and obj._variant_mapping:
        return "sa.BigInteger().with_variant(sa.Integer(), 'sqlite')"
    return False
