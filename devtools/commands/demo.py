"""`hotline-dev demo`: the sandbox Asterisk 22, a seeded database, the whole backend and
simulated callers and agents, on this machine; prints where to look.

    hotline-dev demo                 # until Ctrl-C
    hotline-dev demo --duration 60   # stop by itself (smoke tests)
    hotline-dev demo --cluster       # several processes: 2 pbx (leader + standby), 2 api
    hotline-dev demo --cluster --kill-leader-every 45   # watch the standby take over
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from kernel.config import ConfigError, load_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--duration", type=float, default=0, help="seconds to run (0 = until Ctrl-C)"
    )
    parser.add_argument("--customers", type=int, default=5000, help="demo customers to seed")
    parser.add_argument(
        "--call-every",
        type=float,
        default=8.0,
        help="mean seconds between simulated calls (0 = no simulated callers)",
    )
    parser.add_argument(
        "--no-campaign",
        action="store_true",
        help="do not start the demo's outage-notice campaign (its calls share the machine)",
    )
    parser.add_argument("--http-port", type=int, default=None, help="override http.port")
    parser.add_argument("--var", type=Path, default=Path("var/demo"), help="state directory")
    parser.add_argument(
        "--sandbox-name",
        default="demo",
        help="the sandbox Asterisk instance's name (two demos at once need two names)",
    )
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="run the center as several processes (PostgreSQL, Redis, 2 pbx, 2 api)",
    )
    parser.add_argument(
        "--kill-leader-every",
        type=float,
        default=0,
        help="with --cluster: SIGKILL the leading pbx process every N seconds (0 = never)",
    )


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("sqlalchemy", "uvicorn.access", "alembic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        base = load_settings(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.cluster:
        from devtools.demo.cluster_session import run_cluster_demo

        return asyncio.run(run_cluster_demo(args))
    from devtools.demo.session import DemoSession

    return asyncio.run(DemoSession(base, args).run())
