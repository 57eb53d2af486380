"""Issue 12 (tickets split): git mv the files, then rewrite module names and paths.

Re-runnable after a merge: moves whose source is gone are skipped; rewrites are idempotent.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

MODULES = {
    "tickets.knowledge": "knowledge.service",
    "tickets.textsearch": "db.textsearch",
    "tickets.search_index": "db.search_index",
    "tickets.followup": "followups.dialer",
    "tickets.survey": "followups.survey",
    "tickets.survey_agi": "followups.survey_agi",
    "tickets.survey_store": "followups.survey_store",
    "tickets.prompts": "ivr.prompt_cache",
    "tickets.inbound": "integrations.inbound",
    "tickets.webhooks": "integrations.webhooks",
    "tickets.signing": "integrations.signing",
    "tests.unit.tickets.test_survey_flow": "tests.unit.followups.test_survey_flow",
    "tests.integration.tickets_support": "tests.integration.tickets.support",
    "tests.integration.test_kb_search": "tests.integration.knowledge.test_kb_search",
    "tests.integration.test_kb_notices": "tests.integration.knowledge.test_kb_notices",
    "tests.integration.test_followup_call": "tests.integration.followups.test_followup_call",
    "tests.integration.test_followup_dialer": "tests.integration.followups.test_followup_dialer",
    "tests.integration.test_followup_survey_agi": "tests.integration.followups.test_followup_survey_agi",
    "tests.integration.test_webhooks_delivery": "tests.integration.integrations.test_webhooks_delivery",
    "tests.integration.test_webhooks_inbound": "tests.integration.integrations.test_webhooks_inbound",
}
for name in ("api", "lifecycle", "links", "repeat_priority", "runtime", "search", "sla"):
    MODULES[f"tests.integration.test_tickets_{name}"] = (
        f"tests.integration.tickets.test_tickets_{name}"
    )
# Not module names: the config key `tickets.webhooks` and an audit_log source value.
FIXUPS = {
    'source="knowledge.service"': 'source="tickets.knowledge"',
    "`integrations.webhooks`": "`tickets.webhooks`",
    "when integrations.webhooks are": "when tickets.webhooks are",
}
NEW_PACKAGES = [
    "knowledge",
    "followups",
    "integrations",
    "tests/unit/followups",
    "tests/integration/tickets",
    "tests/integration/knowledge",
    "tests/integration/followups",
    "tests/integration/integrations",
]


def path_of(module: str) -> str:
    return module.replace(".", "/") + ".py"


def sh(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def main() -> None:
    for pkg in NEW_PACKAGES:
        init = Path(pkg) / "__init__.py"
        if not init.exists():
            init.parent.mkdir(parents=True, exist_ok=True)
            init.write_text("")
            sh("git", "add", str(init))
    for old, new in MODULES.items():
        if Path(path_of(old)).exists() and not Path(path_of(new)).exists():
            sh("git", "mv", path_of(old), path_of(new))
    dotted = re.compile(
        r"(?<![\w.])("
        + "|".join(re.escape(m) for m in sorted(MODULES, key=len, reverse=True))
        + r")\b(?![\w/])"
    )
    paths = re.compile(
        r"(?<![\w/])("
        + "|".join(re.escape(path_of(m)) for m in sorted(MODULES, key=len, reverse=True))
        + r")"
    )
    by_path = {path_of(o): path_of(n) for o, n in MODULES.items()}
    for f in sh("git", "ls-files").splitlines():
        p = Path(f)
        if (
            p.suffix
            not in {
                ".py",
                ".md",
                ".toml",
                ".cfg",
                ".ini",
                ".txt",
                ".yaml",
                ".yml",
                ".js",
                ".html",
                ".conf",
                "",
            }
            or not p.is_file()
        ):
            continue
        if f == "scripts/i12_tickets_moves.py":
            continue
        try:
            text = p.read_text()
        except UnicodeDecodeError:
            continue
        new = dotted.sub(lambda m: MODULES[m.group(1)], text)
        new = paths.sub(lambda m: by_path[m.group(1)], new)
        for wrong, right in FIXUPS.items():
            new = new.replace(wrong, right)
        if new != text:
            p.write_text(new)


if __name__ == "__main__":
    main()
