"""`hotline serve`: run the backend (bridge, IVR, routing, API) until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import logging

from hotline.commands import settings_or_report
from hotline.runtime import Runtime, serve_forever
from kernel.config import load_settings


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
    h, agi = settings.http, settings.pbx.fastagi
    what = {
        "all": f"serving on http://{h.host}:{h.port} and FastAGI {agi.host}:{agi.port}",
        "api": f"serving on http://{h.host}:{h.port}",
        "pbx": f"serving FastAGI on {agi.host}:{agi.port} (cluster duties when leading)",
    }[args.role]
    asyncio.run(
        serve_forever(
            # A reload (SIGHUP, `hotline reload`) reads the same file and environment.
            Runtime(settings, role=args.role, config_source=lambda: load_settings(args.config)),
            ready=lambda _: print(f"hotline: {what}", flush=True),
        )
    )
    return 0
