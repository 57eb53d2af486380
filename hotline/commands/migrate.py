"""`hotline migrate`: create or upgrade the database schema (Alembic, db/migrations).

hotline migrate                 # upgrade the configured database to the newest schema
hotline migrate --check         # exit 1 if the database differs from the models
hotline migrate --revision MSG  # developers: autogenerate a new revision to review
"""

from __future__ import annotations

import argparse
import sys

from kernel.config import ConfigError, load_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="database URL (default: database.url from the config)")
    parser.add_argument("--to", default="head", metavar="REV", help="target revision")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="compare schema and models only")
    group.add_argument("--revision", metavar="MESSAGE", help="autogenerate a new revision")


def run(args: argparse.Namespace) -> int:
    url = args.url
    if url is None:
        try:
            url = load_settings(args.config).database.url
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return 1

    from db import migrate

    if args.check:
        current = migrate.current_revision(url)
        diff = migrate.schema_diff(url)
        head = migrate.head_revision()
        for item in diff:
            print(f"differs: {item}")
        print(f"database at {current or '(empty)'}, newest revision {head}")
        return 0 if not diff and current == head else 1
    if args.revision:
        migrate.upgrade(url)
        migrate.make_revision(url, args.revision)
        return 0
    before = migrate.current_revision(url)
    migrate.upgrade(url, args.to)
    after = migrate.current_revision(url)
    print(f"database schema: {before or '(empty)'} -> {after}")
    return 0
