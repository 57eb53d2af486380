"""The campaigns API's pure parts: the contact CSV (read like the customer import: any
bytes end in contacts and row errors or one ImportFormatError, never anything else), the
outage window, survey averages, the results CSV and the report's intervals."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.lists import ImportFormatError, customer_contact, outage_window, read_csv
from campaigns.results import bucket, contacts_csv, report, survey_averages

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_csv_keeps_good_rows_and_reports_bad_ones_by_line() -> None:
    data = "电话,姓名,表号\n+86 139 0000 0001,王芳,M1\nabc,坏,M2\n13900000001,重复,M3\n\n021-6123 4567,李强,\n"
    out = read_csv(data.encode("gb18030"))
    assert [(r.number, r.name, r.data, r.line) for r in out.rows] == [
        ("13900000001", "王芳", {"表号": "M1", "name": "王芳"}, 2),
        ("02161234567", "李强", {"name": "李强"}, 6),
    ]
    assert [(e.line, e.field) for e in out.errors] == [(3, "number")]
    assert (out.duplicates, out.lines, out.columns) == (1, 4, ["表号"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"name,city\n", "number"),
        (("number," + ",".join(f"c{i}" for i in range(40))).encode(), "30"),
    ],
)
def test_a_file_that_is_not_a_contact_list_is_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(ImportFormatError, match=message):
        read_csv(data)


@given(st.binary(max_size=400))
def test_any_bytes_give_rows_and_errors_or_a_format_error(data: bytes) -> None:
    try:
        out = read_csv(b"number,name\n" + data)
    except ImportFormatError:
        return
    assert len(out.rows) + len(out.errors) + out.duplicates == out.lines
    assert len({r.number for r in out.rows}) == len(out.rows)


def test_a_customer_contact_carries_the_message_fields() -> None:
    customer = {"id": 7, "name": "王芳", "account_number": "1001", "arrears": Decimal("128.5"),
                "balance": Decimal("-3"), "district": "滨江区"}  # fmt: skip
    row = customer_contact(customer, "13900000001", "2026-12-08 09:00-17:00")
    assert row.data == {"name": "王芳", "account": "1001", "arrears": "128.50",
                        "balance": "-3.00", "district": "滨江区",
                        "outage_window": "2026-12-08 09:00-17:00"}  # fmt: skip
    assert row.customer_id == 7


def test_the_outage_window_is_in_the_center_time() -> None:
    start = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)
    assert outage_window([(start, start + dt.timedelta(hours=8))], "Asia/Shanghai") == (
        "2026-12-08 09:00-17:00"
    )
    assert outage_window([(start, start + dt.timedelta(hours=20))], "Asia/Shanghai") == (
        "2026-12-08 09:00 - 2026-12-09 05:00"
    )
    assert outage_window([], "Asia/Shanghai") is None


def test_survey_averages_skip_missing_and_non_numeric_answers() -> None:
    questions = [{"key": "rating", "text": "打分"}, {"key": "speed", "text": "速度"}]
    answers: list[dict[str, object]] = [
        {"rating": 5, "speed": 2},
        {"rating": "4"},
        {"rating": True},
        {"speed": "x"},
        {},
    ]
    assert survey_averages(questions, answers) == [
        {"key": "rating", "text": "打分", "count": 2, "average": 4.5},
        {"key": "speed", "text": "速度", "count": 1, "average": 2.0},
    ]


def test_the_results_csv_has_a_bom_and_chinese_intact() -> None:
    row = {"number": "13900000001", "name": "王芳", "state": "done", "attempts": 2,
           "last_outcome": "answered", "keys": "3", "confirmed": True, "opted_out": False,
           "agent_name": "李四", "ticket_number": None, "call_linkedid": "hlcp-1",
           "answers": {"rating": 5}}  # fmt: skip
    data = contacts_csv([row], ["rating"])
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[1] == ["13900000001", "王芳", "done", "2", "answered", "3", "1", "0", "李四",
                        "", "hlcp-1", '{"rating": 5}', "5"]  # fmt: skip


@pytest.mark.parametrize(
    ("at", "interval", "start"),
    [
        (dt.datetime(2026, 12, 6, 15, 59, tzinfo=dt.UTC), "day", dt.date(2026, 12, 6)),
        (dt.datetime(2026, 12, 6, 16, 0, tzinfo=dt.UTC), "day", dt.date(2026, 12, 7)),
        (dt.datetime(2026, 12, 6, 16, 0, tzinfo=dt.UTC), "week", dt.date(2026, 12, 7)),
        (dt.datetime(2026, 12, 6, 15, 0, tzinfo=dt.UTC), "week", dt.date(2026, 11, 30)),
        (dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.UTC), "month", dt.date(2026, 12, 1)),
        (dt.datetime(2026, 12, 6, 15, 0), "day", dt.date(2026, 12, 6)),  # naive: UTC
    ],
)
def test_an_instant_falls_in_its_local_interval(
    at: dt.datetime, interval: str, start: dt.date
) -> None:
    assert bucket(at, interval, SHANGHAI) == start


def test_the_report_counts_per_campaign_per_interval() -> None:
    day = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)
    attempts = [(1, day, "answered", True), (1, day, "busy", False), (2, day, None, False),
                (1, day + dt.timedelta(days=1), "answered", False)]  # fmt: skip
    rows = report(attempts, {1: "欠费提醒", 2: "回访"}, "week", "Asia/Shanghai")
    assert [(r["campaign_id"], r["start"], r["attempts"], r["answered"], r["confirmed"])
            for r in rows] == [(1, "2026-12-07", 3, 2, 1), (2, "2026-12-07", 1, 0, 0)]  # fmt: skip
    assert rows[0]["answer_rate"] == 0.6667
