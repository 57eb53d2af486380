"""`hotline pbx-config --out DIR`: render deploy/asterisk/ for your own Asterisk 22 from
config.yaml (+ HOTLINE_* overrides): the AMI port and user and the FastAGI address come
from the settings at the moment you render, so set them first (see deploy/asterisk/README.md).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from hotline.commands import settings_or_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="directory to write into")
    parser.add_argument("--ami-bind", default="127.0.0.1", help="manager.conf bindaddr")
    parser.add_argument("--sip-bind", default="127.0.0.1", help="pjsip.conf UDP transport address")
    parser.add_argument("--sip-port", type=int, default=5060)
    parser.add_argument("--sip-password", default="change-me", help="password of agents")
    parser.add_argument(
        "--http-bind",
        default="127.0.0.1",
        help="http.conf bindaddr: SIP over WebSocket for the desk's browser phone",
    )
    parser.add_argument("--http-port", type=int, default=8088, help="http.conf bindport")
    parser.add_argument(
        "--sounds-dir",
        default="/var/lib/asterisk/sounds/hotline",
        help="HOTLINE_SOUNDS_DIR: where Asterisk finds the rendered prompts",
    )
    parser.add_argument(
        "--monitor-dir",
        default="/var/spool/asterisk/monitor",
        help="HOTLINE_MONITOR_DIR: where Asterisk writes voicemail messages",
    )
    parser.add_argument(
        "--node",
        help="one node of pbx.nodes: its AMI and SIP addresses, systemname and trunks to "
        "the others (deploy/asterisk/README.md, 'Several Asterisk nodes')",
    )
    parser.add_argument(
        "--trunk-secret-env",
        default="HOTLINE_TRUNK_SECRET",
        help="environment variable with the inter-node trunk's password (same on all nodes)",
    )
    parser.add_argument(
        "--with-test-contexts",
        action="store_true",
        help="also write extensions_test.conf (simulated callers/agents) and include it",
    )


def run(args: argparse.Namespace) -> int:
    from cti.pbx_config import write_rendered

    settings = settings_or_report(args)
    if settings is None:
        return 1
    secret = settings.pbx.ami.secret
    if secret is None:
        print(
            "pbx-config: HOTLINE_PBX__AMI__SECRET is not set: manager.conf gets 'change-me'",
            file=sys.stderr,
        )
    overrides: dict[str, object] = {
        "ami_bind": args.ami_bind,
        "ami_secret": secret.get_secret_value() if secret else "change-me",
        "sip_bind": args.sip_bind,
        "sip_port": args.sip_port,
        "sip_password": args.sip_password,
        "http_bind": args.http_bind,
        "http_port": args.http_port,
        "sounds_dir": args.sounds_dir,
        "monitor_dir": args.monitor_dir,
        "include_test_contexts": args.with_test_contexts,
    }
    if args.node:
        from cti.pbx_config import node_overrides

        names = [n.name for n in settings.pbx.nodes]
        if args.node not in names:
            print(f"pbx-config: --node {args.node}: pbx.nodes has {names}", file=sys.stderr)
            return 2
        trunk = os.environ.get(args.trunk_secret_env, "")
        if not trunk:
            print(f"pbx-config: {args.trunk_secret_env} is not set", file=sys.stderr)
            return 2
        overrides |= node_overrides(settings, args.node) | {"trunk_secret": trunk}
    written = write_rendered(settings, args.out, overrides)
    for path in written:
        if path.name == "manager.conf":
            os.chmod(path, 0o640)  # it holds the AMI secret
    print(
        f"pbx-config: wrote {len(written)} files to {args.out}: "
        + ", ".join(p.name for p in written)
    )
    return 0
