"""`hotline serve`: run the backend (bridge, IVR, routing, API) until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import logging

from hotline.commands import settings_or_report
from hotline.runtime import Runtime, serve_forever


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--role",
        choices=["all", "api", "pbx"],
        default="all",
        help="which parts this process runs (default: all)",
    )
    parser.add_argument("--log-level", default="INFO")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = settings_or_report(args)
    if settings is None:
        return 1
    h = settings.http
    asyncio.run(
        serve_forever(
            Runtime(settings, role=args.role),
            ready=lambda _: print(f"hotline: serving on http://{h.host}:{h.port}", flush=True),
        )
    )
    return 0
