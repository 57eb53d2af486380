"""Alembic environment: driven by db.migrate (no alembic.ini); the URL and, optionally,
an engine come in config.attributes. Offline (SQL script) mode is not supported."""

import sqlmodel  # noqa: F401 - revisions may reference sqlmodel types
from alembic import context

import db.models
from db.engine import make_sync_engine
from db.migrate import autogenerate_options

config = context.config
target_metadata = db.models.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("hotline_engine")
    own_engine = engine is None
    if engine is None:
        engine = make_sync_engine(config.attributes["hotline_url"])
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                **autogenerate_options(connection.dialect.name),
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        if own_engine:
            engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline migrations are not supported: pass a database URL")
run_migrations_online()
