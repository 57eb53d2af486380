"""CEL call scenarios as small tables, one CEL row per line (like scenario.py for AMI):

    t   EVENTTYPE   uniqueid  linkedid  column=value ...

`t` is seconds after T0 (the row's eventtime); only non-empty columns are written, values
shell-quoted. Fixtures under tests/fixtures/cel/ are real rows that cel_sqlite3_custom
wrote in the sandbox Asterisk 22 (recorded once with `dump`), one call per file."""

from __future__ import annotations

import shlex
from pathlib import Path

from cti.cel.record import CelRow

T0 = 1_796_000_000.0
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cel"
_FIELDS = (
    "channame",
    "context",
    "exten",
    "cid_name",
    "cid_num",
    "appname",
    "appdata",
    "peer",
    "extra",
)


def parse(table: str) -> list[CelRow]:
    rows: list[CelRow] = []
    for raw in table.strip().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        t, event, uniqueid, linkedid, *rest = shlex.split(line)
        values = dict(item.partition("=")[::2] for item in rest)
        unknown = set(values) - set(_FIELDS)
        if unknown:
            raise ValueError(f"unknown CEL columns {sorted(unknown)} in {line!r}")
        rows.append(
            CelRow(
                id=len(rows) + 1,
                eventtype=event,
                eventtime=T0 + float(t),
                uniqueid=uniqueid,
                linkedid=linkedid,
                **values,
            )
        )
    return rows


def fixture(name: str) -> list[CelRow]:
    return parse((FIXTURES / f"{name}.cel").read_text(encoding="utf-8"))


def dump(rows: list[CelRow], start: float | None = None) -> str:
    """Rows -> table text (times relative to the first row, or to `start`)."""
    base = rows[0].eventtime if start is None else start
    lines = []
    for r in rows:
        cells = [f"{r.eventtime - base:.6f}", r.eventtype, r.uniqueid, r.linkedid]
        cells += [f"{k}={getattr(r, k)}" for k in _FIELDS if getattr(r, k)]
        lines.append(" ".join(shlex.quote(c) for c in cells))
    return "\n".join(lines) + "\n"
