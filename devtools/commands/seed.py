"""`hotline-dev seed`: fill the configured database with demo data (after `hotline migrate`).

hotline-dev seed --customers 100000 --agents 20 --seed 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from hotline.commands import settings_or_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=1000, metavar="N", help="customers to add")
    parser.add_argument("--agents", type=int, default=20, metavar="M", help="agents (agent01..)")
    parser.add_argument("--seed", type=int, default=1, metavar="S", help="random seed")
    parser.add_argument("--url", help="database URL (default: database.url from the config)")
    parser.add_argument("--batch-size", type=int, default=5000, help=argparse.SUPPRESS)
    parser.add_argument("--no-migrate", action="store_true", help="do not upgrade the schema first")


def run(args: argparse.Namespace) -> int:
    settings = settings_or_report(args)
    if settings is None:
        return 1
    if args.customers < 0 or args.agents < 0:
        print("--customers and --agents must be >= 0", file=sys.stderr)
        return 2
    url = args.url or settings.database.url

    from db.engine import make_sync_engine
    from db.migrate import upgrade
    from devtools.seed.staff import DEMO_PASSWORD
    from devtools.seed.writer import seed_database

    if not args.no_migrate:
        upgrade(url)
    engine = make_sync_engine(url)
    try:
        report = seed_database(
            engine,
            customers=args.customers,
            agents=args.agents,
            seed=args.seed,
            skills=[s.name for s in settings.skills],
            departments=[d.name for d in settings.tickets.departments],
            now=dt.datetime.now(dt.UTC),
            batch_size=args.batch_size,
        )
    finally:
        engine.dispose()
    rate = report.customers / max(report.seconds.get("customers", 0.0), 1e-9)
    print(
        f"seeded {report.customers:,} customers ({report.phones:,} phones, ids from "
        f"{report.first_customer_id}) in {report.seconds.get('customers', 0.0):.1f}s "
        f"({rate:,.0f}/s)"
    )
    if report.users_created:
        print(f"users created: {', '.join(report.users_created)}")
    if report.users_kept:
        print(f"users already there (unchanged): {', '.join(report.users_kept)}")
    print(f"knowledge-base articles: {report.kb_articles}, notices: {report.notices}")
    print(f"demo password for every created user: {DEMO_PASSWORD}")
    return 0
