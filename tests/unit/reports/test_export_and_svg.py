"""CSV export, chart data and the SVG renderer (pure), with Chinese labels."""

from __future__ import annotations

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET

import pytest

from reports.export import chart_data, to_csv
from reports.intervals import Interval, ReportRange
from reports.metrics import Aggregates
from reports.service import ReportResult
from reports.sql import Dimension, ReportQuery
from reports.svg import render_svg

RANGE = ReportRange(dt.date(2026, 3, 1), dt.date(2026, 3, 3), "Asia/Shanghai")
LABELS = {"billing": "账务缴费", "repair": "故障报修"}


def result() -> ReportResult:
    r = ReportResult(ReportQuery(RANGE, Interval.DAY, Dimension.QUEUE))
    r.add(
        (dt.datetime(2026, 3, 1), "billing"), Aggregates(offered=10, answered=8, answered_in_sl=6)
    )
    r.add((dt.datetime(2026, 3, 3), "billing"), Aggregates(offered=4, answered=4, answered_in_sl=4))
    r.add((dt.datetime(2026, 3, 1), "repair"), Aggregates(offered=6, answered=3, abandoned=3))
    return r


def test_csv_has_a_bom_local_times_labels_and_every_metric() -> None:
    text = to_csv(result(), LABELS)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert len(rows) == 3
    first = rows[0]
    assert first["interval_start"] == "2026-03-01T00:00:00+08:00"
    assert (first["key"], first["label"], first["offered"], first["service_level"]) == (
        "billing",
        "账务缴费",
        "10",
        "0.75",
    )
    assert rows[1]["label"] == "故障报修"
    assert rows[1]["asa_seconds"] == "0.0"
    assert rows[0]["occupancy"] == ""  # unknown, not zero


def test_line_chart_fills_empty_buckets_and_bar_pie_sum_the_range() -> None:
    line = chart_data(result(), "line", "offered", LABELS, "来电量")
    assert line.x == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert [(s.name, s.values) for s in line.series] == [
        ("账务缴费", [10.0, 0.0, 4.0]),
        ("故障报修", [6.0, 0.0, 0.0]),
    ]
    bar = chart_data(result(), "bar", "service_level", LABELS, "服务水平")
    assert bar.x == ["账务缴费", "故障报修"]
    assert bar.series[0].values == [pytest.approx(10 / 12, abs=1e-4), 0.0]
    pie = chart_data(result(), "pie", "offered", LABELS, "来电构成")
    assert pie.series[0].values == [14.0, 6.0]
    with pytest.raises(ValueError, match="unknown metric"):
        chart_data(result(), "pie", "nonsense", LABELS, "x")


@pytest.mark.parametrize("kind", ["line", "bar", "pie"])
def test_svg_is_well_formed_and_carries_the_chinese_labels(kind: str) -> None:
    chart = chart_data(result(), kind, "offered", LABELS, "来电量 <按队列>")  # type: ignore[arg-type]
    svg = render_svg(chart)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = "".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "来电量 <按队列>" in texts
    assert "账务缴费" in texts
    shapes = {"line": "polyline", "bar": "rect", "pie": "path"}[kind]
    assert len(list(root.iter(f"{{http://www.w3.org/2000/svg}}{shapes}"))) >= 2
