"""`hotline-dev sandbox`: the sandbox Asterisk 22 on loopback (build, start, stop, status,
cli). The configuration for a user's own Asterisk is a product command: `hotline pbx-config`.

`start` runs the instance named `demo` in the background on the ports of config.yaml
and writes var/sandbox/<name>.json (mode 0600: it holds the AMI secret) with the
connection facts and the HOTLINE_* environment that points a backend at it.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from kernel.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from devtools.services.asterisk import AsteriskInstance

STATE_DIR = Path("var/sandbox")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = sub.add_parser("build", help="build (once) and cache the Asterisk 22 root")
    build.add_argument("--rebuild", action="store_true", help="build again even if cached")
    start = sub.add_parser("start", help="start the instance in the background")
    _name(start)
    start.add_argument("--sip-port", type=int, default=5060)
    start.add_argument("--sip-password", default="hotline", help="password of agents 1001..1020")
    start.add_argument(
        "--local-agents",
        action="store_true",
        help="offer calls to simulated Local-channel agents (hotline-test-agent), not PJSIP phones",
    )
    for name in ("stop", "status"):
        _name(sub.add_parser(name, help=f"{name} the instance"))
    cli = sub.add_parser("cli", help='run an Asterisk CLI command, e.g. "queue show"')
    _name(cli)
    cli.add_argument("cli_command", metavar="COMMAND", help="the CLI command (quote it)")


def _name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", default="demo", help="instance name (default: demo)")


def run(args: argparse.Namespace) -> int:
    from devtools.services.asterisk import AsteriskStartError, RootError

    try:
        action = {
            "build": _build,
            "start": _start,
            "stop": _stop,
            "status": _status,
            "cli": _cli,
        }[args.action]
        return action(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    except (RootError, AsteriskStartError) as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 1


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


def _build(args: argparse.Namespace) -> int:
    from devtools.services.asterisk_root import build_root, ensure_root

    started = time.monotonic()
    root = build_root(progress=print, force=True) if args.rebuild else ensure_root(progress=print)
    where = root.path or "the host (asterisk on PATH)"
    print(f"sandbox: {root.version()} ready in {where} ({time.monotonic() - started:.1f} s)")
    return 0


def _start(args: argparse.Namespace) -> int:
    from devtools.services.asterisk import (
        TEST_AGENT_ENDPOINT,
        attach_instance,
        ensure_root,
        start_instance,
    )

    settings = _settings(args)
    root = ensure_root(progress=print)
    running = attach_instance(args.name, root=root)
    if running is not None and running.running:
        print(f"sandbox: {args.name!r} already runs (pid {running.pid})")
        _print_facts(running.state())
        return 0
    secret = settings.pbx.ami.secret
    instance = start_instance(
        args.name,
        settings=settings,
        ami_port=settings.pbx.ami.port,
        sip_port=args.sip_port,
        fastagi_host=settings.pbx.fastagi.advertised_host,
        fastagi_port=settings.pbx.fastagi.port,
        ami_secret=secret.get_secret_value() if secret else _previous_secret(args.name),
        sip_password=args.sip_password,
        agent_endpoint=TEST_AGENT_ENDPOINT if args.local_agents else None,
        root=root,
    )
    state = instance.state() | {"env": instance.settings_env()}
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    path = STATE_DIR / f"{args.name}.json"
    path.touch(mode=0o600)
    path.write_text(json.dumps(state, indent=2) + "\n")
    print(
        f"sandbox: {args.name!r} started in {instance.started_seconds:.1f} s (pid {instance.pid})"
    )
    _print_facts(state)
    if secret is None:
        print(f"  backend: export HOTLINE_PBX__AMI__SECRET=... (in {path})")
    return 0


def _previous_secret(name: str) -> str:
    """Keep the demo's generated secret across restarts, so a running backend still works."""
    try:
        env = json.loads((STATE_DIR / f"{name}.json").read_text())["env"]
        return str(env["HOTLINE_PBX__AMI__SECRET"])
    except (OSError, ValueError, KeyError, TypeError):
        return secrets.token_hex(16)


def _print_facts(state: dict[str, object]) -> None:
    print(f"  AMI      127.0.0.1:{state['ami_port']} user {state['ami_username']}")
    print(f"  SIP      udp 127.0.0.1:{state['sip_port']} agents 1001..1020 (pjsip.conf)")
    print(f"  FastAGI  Asterisk calls agi://{state['fastagi_host']}:{state['fastagi_port']}/ivr")
    print(f"  files    {state.get('root_path') or ''}{state['base']}")


def _attach(args: argparse.Namespace) -> AsteriskInstance | None:
    from devtools.services.asterisk import attach_instance

    return attach_instance(args.name)


def _stop(args: argparse.Namespace) -> int:
    instance = _attach(args)
    if instance is None or not instance.running:
        print(f"sandbox: {args.name!r} is not running")
        if instance is not None:
            instance.stop()  # still release /proc if this was the last one
        return 0
    began = time.monotonic()
    instance.stop()
    print(f"sandbox: {args.name!r} stopped in {time.monotonic() - began:.1f} s")
    return 0


def _status(args: argparse.Namespace) -> int:
    instance = _attach(args)
    if instance is None or not instance.running:
        print(f"sandbox: {args.name!r} is not running")
        return 3
    print(f"sandbox: {args.name!r} runs (pid {instance.pid})")
    _print_facts(instance.state())
    print(instance.cli("core show uptime").rstrip())
    print(instance.cli("core show channels count").rstrip())
    return 0


def _cli(args: argparse.Namespace) -> int:
    instance = _attach(args)
    if instance is None or not instance.running:
        print(f"sandbox: {args.name!r} is not running", file=sys.stderr)
        return 3
    sys.stdout.write(instance.cli(args.cli_command))
    return 0
