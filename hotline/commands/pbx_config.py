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
    written = write_rendered(
        settings,
        args.out,
        {
            "ami_bind": args.ami_bind,
            "ami_secret": secret.get_secret_value() if secret else "change-me",
            "sip_bind": args.sip_bind,
            "sip_port": args.sip_port,
            "sip_password": args.sip_password,
            "sounds_dir": args.sounds_dir,
            "monitor_dir": args.monitor_dir,
            "include_test_contexts": args.with_test_contexts,
        },
    )
    for path in written:
        if path.name == "manager.conf":
            os.chmod(path, 0o640)  # it holds the AMI secret
    print(
        f"pbx-config: wrote {len(written)} files to {args.out}: "
        + ", ".join(p.name for p in written)
    )
    return 0
