"""Contact lists, pure: a CSV upload read and checked row by row like the customer import
(customers/import_rows.py: same encodings, same phone rules, bad rows reported by line
with a reason and skipped, good rows kept), and a customer of a filter made a contact.

CSV: a header with `number` (or 电话/号码/手机/联系电话) and `name` (or 姓名/户名), any
other columns are kept in the contact's data under their header (placeholders of a
message: {arrears}, {meter}, ...). Numbers are normalized (db.phones.normalize_phone);
a number twice in the file is counted as a duplicate and added once.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from customers.import_rows import ImportFormatError, RowError, _open_text, _phone_ok
from db.phones import normalize_phone

__all__ = ["ContactRow", "CsvList", "ImportFormatError", "RowError", "outage_window", "read_csv"]

NUMBER_ALIASES = ("number", "phone", "电话", "号码", "手机", "联系电话", "电话号码")
NAME_ALIASES = ("name", "姓名", "户名", "客户名称", "用户名称")
MAX_ROWS = 200_000
MAX_VALUE = 500
MAX_COLUMNS = 30


@dataclass
class ContactRow:
    number: str
    name: str
    data: dict[str, Any]
    customer_id: int | None = None
    line: int = 0


@dataclass
class CsvList:
    rows: list[ContactRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    duplicates: int = 0  # numbers seen earlier in the same file
    lines: int = 0  # data rows read (blank lines not counted)
    columns: list[str] = field(default_factory=list)  # the extra data columns kept


def _header(header: list[str]) -> tuple[int, int | None, dict[int, str]]:
    clean = [h.strip().lstrip("\ufeff") for h in header]
    lookup = [c.lower() for c in clean]
    number = next((i for i, c in enumerate(lookup) if c in NUMBER_ALIASES), None)
    if number is None:
        raise ImportFormatError("missing column: number (电话)")
    name = next((i for i, c in enumerate(lookup) if c in NAME_ALIASES), None)
    extra = {
        i: c[:60]
        for i, c in enumerate(clean)
        if i not in (number, name) and c and c.lower() not in NUMBER_ALIASES
    }
    if len(extra) > MAX_COLUMNS:
        raise ImportFormatError(f"at most {MAX_COLUMNS} data columns")
    return number, name, extra


def read_csv(source: bytes) -> CsvList:
    """The file's contacts and every bad row (pure; run it in a worker thread)."""
    text = _open_text(source)
    try:
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            raise ImportFormatError("the file is empty") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ImportFormatError(f"not a CSV file: {exc}") from None
        number_at, name_at, extra = _header(header)
        out = CsvList(columns=list(extra.values()))
        seen: dict[str, int] = {}
        try:
            for cells in reader:
                line = reader.line_num
                if not any(c.strip() for c in cells):
                    continue
                out.lines += 1
                if out.lines > MAX_ROWS:
                    raise ImportFormatError(f"at most {MAX_ROWS} rows in one file")
                row = _row(cells, line, number_at, name_at, extra)
                if isinstance(row, RowError):
                    out.errors.append(row)
                elif row.number in seen:
                    out.duplicates += 1
                else:
                    seen[row.number] = line
                    out.rows.append(row)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ImportFormatError(f"not a CSV file (line {reader.line_num}): {exc}") from None
        return out
    finally:
        text.close()


def _row(
    cells: list[str], line: int, number_at: int, name_at: int | None, extra: Mapping[int, str]
) -> ContactRow | RowError:
    def cell(i: int | None) -> str:
        return cells[i].strip() if i is not None and i < len(cells) else ""

    if any("\x00" in c for c in cells):
        return RowError(line, "", "row", "contains a NUL character")
    raw = cell(number_at)
    name = cell(name_at)
    if not raw:
        return RowError(line, "", "number", "required")
    number = normalize_phone(raw)
    if not _phone_ok(number):
        return RowError(line, "", "number", "not a phone number", raw[:100])
    if len(name) > 100:
        return RowError(line, number, "name", "longer than 100 characters", name[:100])
    data: dict[str, Any] = {}
    for i, key in extra.items():
        value = cell(i)
        if len(value) > MAX_VALUE:
            return RowError(line, number, key, f"longer than {MAX_VALUE} characters", value[:100])
        if value:
            data[key] = value
    if name:
        data.setdefault("name", name)
    return ContactRow(number=number, name=name, data=data, line=line)


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{Decimal(value).quantize(Decimal('0.01')):f}"


def customer_contact(customer: Mapping[str, Any], number: str, window: str | None) -> ContactRow:
    """A customer of a filter as a contact: the data a message may say."""
    data: dict[str, Any] = {
        "name": customer["name"],
        "account": customer["account_number"],
        "arrears": _amount(customer["arrears"]),
        "balance": _amount(customer["balance"]),
        "district": customer["district"],
    }
    if window:
        data["outage_window"] = window
    return ContactRow(
        number=number, name=customer["name"][:100], data=data, customer_id=customer["id"]
    )


def outage_window(
    notices: Iterable[tuple[dt.datetime, dt.datetime | None]], timezone: str
) -> str | None:
    """The first active outage's window in the center's time, e.g.
    "2026-12-08 09:00-17:00" (one day) or "2026-12-08 22:00 - 2026-12-09 06:00"."""
    zone = ZoneInfo(timezone)
    for start, end in notices:
        a = start.astimezone(zone)
        if end is None:
            return a.strftime("%Y-%m-%d %H:%M")
        b = end.astimezone(zone)
        if a.date() == b.date():
            return f"{a:%Y-%m-%d %H:%M}-{b:%H:%M}"
        return f"{a:%Y-%m-%d %H:%M} - {b:%Y-%m-%d %H:%M}"
    return None
