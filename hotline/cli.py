"""The `hotline` command. Each sub-command lives in hotline/commands/<name>.py and
exposes HELP, add_arguments(parser) and run(args) -> exit code; modules are imported
only when their command runs, so `hotline check-config` stays fast and light."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS: dict[str, str] = {
    "check-config": "hotline.commands.check_config",
    "migrate": "hotline.commands.migrate",
    "seed": "hotline.commands.seed",
    "sandbox": "hotline.commands.sandbox",
    "serve": "hotline.commands.serve",
    "demo": "hotline.commands.demo",
    "recordings": "recordings.cli",
    "prompts": "hotline.commands.prompts",
}

# One-line descriptions, kept here so `hotline --help` needs no imports.
SUMMARIES: dict[str, str] = {
    "check-config": "validate config.yaml (+ environment overrides) and exit",
    "migrate": "create or upgrade the database schema",
    "seed": "generate demo data: customers, agents, knowledge base, notices",
    "sandbox": "build, start or stop the sandbox Asterisk 22 on loopback",
    "serve": "run the backend (AMI bridge, FastAGI, HTTP API)",
    "demo": "sandbox Asterisk + backend + simulated callers and agents",
    "recordings": "recordings: purge files past recording.retention_days [--dry-run]",
    "prompts": "IVR sound files: list, or render the missing ones with espeak-ng",
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="hotline", description="Hotline call-center backend")
    parser.add_argument("--config", help="config file (default: $HOTLINE_CONFIG or ./config.yaml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if a in COMMANDS), None)
    for name, summary in SUMMARIES.items():
        p = sub.add_parser(name, help=summary, description=summary)
        if name == chosen:
            importlib.import_module(COMMANDS[name]).add_arguments(p)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(COMMANDS[args.command])
    code: int = module.run(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
