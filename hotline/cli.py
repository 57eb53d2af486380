"""The `hotline` command: the product's operations (serve, migrate, check the config,
prompts, the PBX configuration, recordings). The sandbox, demo data and the demo are
development tooling with a command of their own, `hotline-dev` (devtools/cli.py).

Each sub-command lives in a module exposing add_arguments(parser) and run(args) -> exit
code; a module is imported only when its command runs, so `hotline --help` and
`hotline check-config` stay fast and light."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Mapping, Sequence

# name -> (module, one-line summary kept here so `--help` needs no imports)
COMMANDS: dict[str, tuple[str, str]] = {
    "check-config": (
        "hotline.commands.check_config",
        "validate config.yaml (+ environment overrides) and exit",
    ),
    "migrate": ("hotline.commands.migrate", "create or upgrade the database schema"),
    "serve": ("hotline.commands.serve", "run the backend (AMI bridge, FastAGI, HTTP API)"),
    "reload": (
        "hotline.commands.reload",
        "every process reads config.yaml again, without dropping calls (or: kill -HUP)",
    ),
    "recordings": (
        "hotline.commands.recordings",
        "recordings: purge files past recording.retention_days [--dry-run]",
    ),
    "prompts": (
        "hotline.commands.prompts",
        "IVR sound files: list, or render the missing ones with espeak-ng",
    ),
    "pbx-config": (
        "hotline.commands.pbx_config",
        "render the Asterisk configuration (deploy/asterisk/) for your own PBX",
    ),
}


def dispatch(
    prog: str,
    description: str,
    commands: Mapping[str, tuple[str, str]],
    argv: Sequence[str] | None = None,
) -> int:
    """Parse `argv` against `commands` and run the chosen one (shared with hotline-dev)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--config", help="config file (default: $HOTLINE_CONFIG or ./config.yaml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if a in commands), None)
    for name, (module, summary) in commands.items():
        p = sub.add_parser(name, help=summary, description=summary)
        if name == chosen:
            importlib.import_module(module).add_arguments(p)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    code: int = importlib.import_module(commands[args.command][0]).run(args)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    return dispatch("hotline", "Hotline call-center backend", COMMANDS, argv)


if __name__ == "__main__":
    raise SystemExit(main())
