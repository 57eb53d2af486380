"""Issue 12 (HTTP platform apart from the desk): rewrite imports after the git mv's.
Run from the repository root: python scripts/i12_platform_moves.py [paths...]
Longest prefixes first; module renames apply to `import x`, `from x import`, and dotted
strings in .py/.md files."""

from __future__ import annotations

import re
import sys
from pathlib import Path

MAPPING = {
    "agent_api.routes.agent_api": "desk.routes.agent_api",
    "agent_api.routes.calls_api": "desk.routes.calls_api",
    "agent_api.routes.call_tickets_api": "desk.routes.call_tickets_api",
    "agent_api.routes.customers_api": "desk.routes.customers_api",
    "agent_api.routes.desk_api": "desk.routes.desk_api",
    "agent_api.routes.knowledge_api": "desk.routes.knowledge_api",
    "agent_api.routes.ws": "desk.routes.ws",
    "agent_api.push": "desk.push",
    "agent_api.agent_state": "desk.agent_state",
    "agent_api.access": "desk.access",
    "tests.unit.agent_api.fake_socket": "tests.unit.desk.fake_socket",
}
PATHS = {k.replace(".", "/"): v.replace(".", "/") for k, v in MAPPING.items()}
PATHS["agent_api/static"] = "desk/static"


def rewrite(text: str) -> str:
    for old in sorted(MAPPING, key=len, reverse=True):
        text = re.sub(rf"(?<![\w.]){re.escape(old)}(?![\w])", MAPPING[old], text)
    for old in sorted(PATHS, key=len, reverse=True):
        text = re.sub(rf"(?<![\w/]){re.escape(old)}(?![\w])", PATHS[old], text)
    return text


def main(argv: list[str]) -> None:
    roots = [Path(a) for a in argv] or [Path(".")]
    for root in roots:
        files = [root] if root.is_file() else root.rglob("*")
        for path in files:
            if (
                path.name == Path(__file__).name
                or ".venv" in path.parts
                or ".git" in path.parts
                or path.suffix not in (".py", ".md")
            ):
                continue
            old = path.read_text(encoding="utf-8")
            new = rewrite(old)
            if new != old:
                path.write_text(new, encoding="utf-8")
                print("rewrote", path)


if __name__ == "__main__":
    main(sys.argv[1:])
