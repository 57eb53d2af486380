"""Reading and checking the billing system's customer CSV, row by row (pure, no I/O
but the file itself; run it in a worker thread).

Headers in English or Chinese (see ALIASES); account_number and name are required.
UTF-8 (with or without BOM) or GB18030. `validate_row` returns a row's values or every
problem found in it (line, account, field, message), so one bad row never stops a file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from db.models import Language, Tier
from db.phones import is_mobile, normalize_phone

ALIASES = {
    "account_number": ("account_number", "account", "户号", "用户编号", "客户编号"),
    "name": ("name", "户名", "姓名", "客户名称", "用户名称"),
    "address": ("address", "地址", "用气地址", "用水地址"),
    "district": ("district", "区域", "所属区", "行政区"),
    "postcode": ("postcode", "邮编", "邮政编码"),
    "tier": ("tier", "客户等级", "等级", "客户类别"),
    "balance": ("balance", "余额", "预存余额"),
    "arrears": ("arrears", "欠费", "应收款", "欠费金额"),
    "last_payment_on": ("last_payment_on", "最后缴费日期", "缴费日期"),
    "last_payment_amount": ("last_payment_amount", "最后缴费金额", "缴费金额"),
    "meter_number": ("meter_number", "表号", "表具编号"),
    "phones": ("phones", "phone", "电话", "联系电话", "手机"),
    "language": ("language", "语言"),
    "notes": ("notes", "备注"),
}
LENGTHS = {"name": 100, "address": 200, "district": 40, "meter_number": 32, "notes": 500}
_ACCOUNT = re.compile(r"^[0-9A-Za-z-]{4,32}$")
_PHONE_SPLIT = re.compile(r"[;,/|，；、]+")
_LANGUAGES = {"zh": Language.ZH, "中文": Language.ZH, "en": Language.EN, "英文": Language.EN}


class ImportFormatError(ValueError):
    """The file as a whole cannot be imported (missing columns, not CSV)."""


@dataclass(frozen=True)
class RowError:
    line: int  # line in the file (the header is line 1)
    account_number: str
    field: str
    message: str
    value: str = ""


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    tier_changes: int = 0
    phones_added: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def errors_csv(self) -> str:
        """The per-row report, for the person who exported the file."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["line", "account_number", "field", "message", "value"])
        for e in self.errors:
            writer.writerow([e.line, e.account_number, e.field, e.message, e.value])
        return out.getvalue()


@dataclass(frozen=True)
class ImportProgress:
    rows_done: int
    rows_total: int  # counted before the import (approximate if fields hold newlines)
    created: int
    updated: int
    failed: int


def _money(text: str, *, allow_negative: bool = True) -> Decimal:
    value = Decimal(text.replace(",", "").replace("¥", "").replace("￥", "").strip() or "0")
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise ValueError("not an amount with at most two decimals")
    if not allow_negative and value < 0:
        raise ValueError("must not be negative")
    if abs(value) >= Decimal(10) ** 12:
        raise ValueError("amount too large")
    return value.quantize(Decimal("0.01"))


def _date(text: str) -> dt.date:
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError("not a date (YYYY-MM-DD)")


def _phone_ok(number: str) -> bool:
    if number.startswith("1") and len(number) == 11:
        return is_mobile(number)
    return 7 <= len(number) <= 12


def _phones(text: str) -> list[str]:
    """Numbers separated by ; , / | (and their full-width forms) or by spaces; a space
    inside one number ("0571 8888 1234") is kept together when the whole is valid."""
    numbers: list[str] = []
    for piece in _PHONE_SPLIT.split(text.strip()):
        whole = normalize_phone(piece)
        raws = [piece] if not piece.strip() or _phone_ok(whole) else piece.split()
        for raw in raws:
            number = normalize_phone(raw)
            if not raw.strip():
                continue
            if not _phone_ok(number):
                raise ValueError(f"not a phone number: {raw}")
            if number not in numbers:
                numbers.append(number)
    return numbers


def validate_row(
    raw: dict[str, str], line: int, tiers: dict[str, Tier]
) -> dict[str, Any] | list[RowError]:
    """A row's customer values, or every problem found in it (pure)."""
    get = {k: (raw.get(k) or "").strip() for k in ALIASES}
    account = get["account_number"]
    errors: list[RowError] = []

    def bad(name: str, message: str) -> None:
        errors.append(RowError(line, account, name, message, get.get(name, "")[:100]))

    if not _ACCOUNT.match(account):
        bad("account_number", "required: 4-32 letters, digits or '-'")
    if not get["name"]:
        bad("name", "required")
    for name, limit in LENGTHS.items():
        if len(get[name]) > limit:
            bad(name, f"longer than {limit} characters")
    if get["postcode"] and not re.fullmatch(r"\d{6}", get["postcode"]):
        bad("postcode", "must be 6 digits")
    values: dict[str, Any] = {}
    tier = tiers.get(get["tier"].upper() if len(get["tier"]) == 1 else get["tier"])
    if get["tier"] and tier is None:
        bad("tier", "unknown tier (A, B, C or its label)")
    values["tier"] = tier or Tier.C
    for name, negative in (("balance", True), ("arrears", False), ("last_payment_amount", True)):
        try:
            values[name] = _money(get[name], allow_negative=negative) if get[name] else None
        except (ValueError, InvalidOperation) as exc:
            bad(name, str(exc) if isinstance(exc, ValueError) else "not an amount")
    try:
        values["last_payment_on"] = (
            _date(get["last_payment_on"]) if get["last_payment_on"] else None
        )
    except ValueError as exc:
        bad("last_payment_on", str(exc))
    try:
        values["phones"] = _phones(get["phones"])
    except ValueError as exc:
        bad("phones", str(exc))
    language = _LANGUAGES.get(get["language"].lower() or "zh")
    if language is None:
        bad("language", "zh or en")
    if errors:
        return errors
    values.update(
        account_number=account,
        name=get["name"],
        address=get["address"],
        district=get["district"],
        postcode=get["postcode"],
        meter_number=get["meter_number"] or None,
        notes=get["notes"] or None,
        language=language,
        balance=values["balance"] if values["balance"] is not None else Decimal("0.00"),
        arrears=values["arrears"] if values["arrears"] is not None else Decimal("0.00"),
    )
    return values


def _header_map(header: list[str]) -> tuple[dict[str, str], list[str]]:
    """{file column: field}, and the columns nobody knows."""
    lookup = {alias.lower(): name for name, aliases in ALIASES.items() for alias in aliases}
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    for column in header:
        name = lookup.get(column.strip().lstrip("\ufeff").lower())
        if name is None or name in mapping.values():
            ignored.append(column)
        else:
            mapping[column] = name
    missing = {"account_number", "name"} - set(mapping.values())
    if missing:
        raise ImportFormatError(f"missing column(s): {', '.join(sorted(missing))}")
    return mapping, ignored


def _open_text(source: Path | bytes) -> io.TextIOWrapper:
    raw: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")
    head = raw.read(65536)
    raw.seek(0)
    try:
        head.decode("utf-8")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        encoding = "utf-8-sig" if exc.start > len(head) - 4 else "gb18030"
    return io.TextIOWrapper(raw, encoding=encoding, newline="")


class Rows:
    """The file read in batches (in a worker thread), validated as it goes."""

    def __init__(self, source: Path | bytes, tiers: dict[str, Tier]) -> None:
        self._text = _open_text(source)
        self._tiers = tiers
        self.total = max(0, sum(1 for _ in self._text) - 1)
        self._text.seek(0)
        reader = csv.reader(self._text)
        try:
            header = next(reader)
        except StopIteration:
            raise ImportFormatError("the file is empty") from None
        self.mapping, self.ignored = _header_map(header)
        self._columns = [self.mapping.get(c) for c in header]
        self._reader: Iterator[list[str]] = reader
        self._seen: dict[str, int] = {}

    def batch(self, size: int) -> list[dict[str, Any] | list[RowError]]:
        out: list[dict[str, Any] | list[RowError]] = []
        for cells in self._reader:
            line = self._reader.line_num  # type: ignore[attr-defined]
            if not any(c.strip() for c in cells):
                continue
            raw = {name: value for name, value in zip(self._columns, cells, strict=False) if name}
            result = validate_row(raw, line, self._tiers)
            if isinstance(result, dict):
                first = self._seen.setdefault(result["account_number"], line)
                if first != line:
                    message = f"duplicate in this file (first on line {first})"
                    result = [RowError(line, result["account_number"], "account_number", message)]
            out.append(result)
            if len(out) >= size:
                break
        return out

    def close(self) -> None:
        self._text.close()
