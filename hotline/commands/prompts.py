"""`hotline prompts`: the IVR's sound files (ivr/prompts.py).

hotline prompts list              # every prompt (zh, en) and Asterisk zh word, missing ones marked
hotline prompts render            # render the missing ones with espeak-ng + sox
hotline prompts render --force    # render them all again (after editing config.yaml texts)

Prompts go to <ivr.sounds_dir>/<language>/<prompt>.wav; Asterisk's Chinese number words to
<Asterisk sounds>/zh/ (default: /usr/share/asterisk/sounds when Asterisk is installed here,
else the sandbox's root; --asterisk-sounds DIR to choose, --no-say-files to skip).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from hotline.commands import settings_or_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("list", "render"), help="list or render")
    parser.add_argument("--force", action="store_true", help="render existing files again")
    parser.add_argument(
        "--asterisk-sounds", metavar="DIR", help="Asterisk's sounds folder (for zh number words)"
    )
    parser.add_argument("--no-say-files", action="store_true", help="only the configured prompts")


def run(args: argparse.Namespace) -> int:
    settings = settings_or_report(args)
    if settings is None:
        return 1
    from ivr.prompt_render import TtsTools
    from ivr.prompts import (
        SoundFile,
        default_asterisk_sounds,
        prompt_files,
        render_files,
        say_files,
    )

    files = prompt_files(settings)
    if not args.no_say_files:
        sounds = Path(args.asterisk_sounds) if args.asterisk_sounds else default_asterisk_sounds()
        if sounds is None:
            print("no Asterisk sounds folder found: skipping its zh number words", file=sys.stderr)
        else:
            files += say_files(sounds)
    if args.action == "list":
        missing = 0
        for f in files:
            missing += not f.exists
            print(f"{'ok     ' if f.exists else 'MISSING'} {f.language} {f.name:<18} {f.path}")
        print(f"{len(files)} sound files, {missing} missing")
        return 0
    tools = TtsTools.find()
    if not tools.available:
        print("espeak-ng and sox are needed: apt install espeak-ng sox", file=sys.stderr)
        return 1

    def progress(f: SoundFile, error: str | None) -> None:
        name = f"{f.language}/{f.name}"
        print(f"{'FAILED ' + name + ': ' + error if error else 'rendered ' + name}")

    todo = [f for f in files if args.force or not f.exists]
    failures = asyncio.run(render_files(todo, tools, force=args.force, progress=progress))
    print(
        f"{len(todo) - len(failures)} rendered, {len(failures)} failed, "
        f"{len(files) - len(todo)} already there"
    )
    return 1 if failures else 0
