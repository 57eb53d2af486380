"""Sub-commands of `hotline` (see hotline/cli.py for the contract)."""

from __future__ import annotations

import argparse
import sys

from kernel.config import ConfigError, Settings, load_settings


def settings_or_report(args: argparse.Namespace) -> Settings | None:
    """The configuration of `--config`, or None after printing why it is invalid (the
    command then exits 1, as `hotline check-config` does)."""
    try:
        return load_settings(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return None
