"""`hotline check-config`: validate the configuration and do nothing else."""

from __future__ import annotations

import argparse
import sys

from kernel.config import ConfigError, load_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", help="config file to check (default: --config)")


def run(args: argparse.Namespace) -> int:
    path = args.file or args.config
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"ok: {settings.center.name.en}: {len(settings.skills)} skills, "
        f"{len(settings.queues)} queues, {len(settings.ivr.nodes)} IVR nodes, "
        f"{len(settings.tickets.categories)} ticket categories"
    )
    return 0
