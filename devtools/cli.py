"""`hotline-dev`: development tooling, outside the product's import graph: the sandbox
Asterisk 22 on loopback, demo data, and the demo (sandbox + backend + simulated callers
and agents). `make demo` runs `hotline-dev demo`."""

from __future__ import annotations

from collections.abc import Sequence

from hotline.cli import dispatch

COMMANDS: dict[str, tuple[str, str]] = {
    "sandbox": (
        "devtools.commands.sandbox",
        "build, start or stop the sandbox Asterisk 22 on loopback",
    ),
    "seed": (
        "devtools.commands.seed",
        "generate demo data: customers, agents, knowledge base, notices",
    ),
    "demo": (
        "devtools.commands.demo",
        "sandbox Asterisk + backend + simulated callers and agents",
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    return dispatch("hotline-dev", "Hotline development tooling", COMMANDS, argv)


if __name__ == "__main__":
    raise SystemExit(main())
