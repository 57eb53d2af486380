"""`hotline recordings purge [--dry-run]`: the retention job, once (cron it daily).

Deletes the files of recordings that ended more than recording.retention_days ago and
are not under legal hold; rows stay, marked deleted, and every deletion is audited.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from hotline.commands import settings_or_report
from kernel.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    purge = sub.add_parser("purge", help="delete recordings past their retention")
    purge.add_argument("--dry-run", action="store_true", help="list what would be deleted")


def run(args: argparse.Namespace) -> int:
    settings = settings_or_report(args)
    if settings is None:
        return 1
    return asyncio.run(_purge(settings, dry_run=args.dry_run))


async def _purge(settings: Settings, *, dry_run: bool) -> int:
    from db.engine import async_session_factory, make_async_engine
    from db.migrate import upgrade
    from recordings.retention import RetentionJob

    # Like `hotline serve`: the schema is brought up to date first (blocking: a thread).
    await asyncio.to_thread(upgrade, settings.database.url)
    engine = make_async_engine(settings.database.url)
    try:
        job = RetentionJob(async_session_factory(engine), settings.recording)
        report = await job.run(dry_run=dry_run)
    finally:
        await engine.dispose()
    verb = "would delete" if dry_run else "deleted"
    for info in report.selected:
        if dry_run or info.id in report.deleted:
            ended = info.ended_at.isoformat() if info.ended_at else "?"
            print(f"{verb} recording {info.id} {info.path} (ended {ended})")
    for rid, error in report.failed.items():
        print(f"failed recording {rid}: {error}", file=sys.stderr)
    count = len(report.selected) if dry_run else len(report.deleted)
    print(f"{verb} {count} recording(s), retention {settings.recording.retention_days} days")
    return 1 if report.failed else 0
