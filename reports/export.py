"""Report results as CSV and as chart data (line over time, bar and pie per key). Pure.

CSV is UTF-8 with a byte-order mark: Excel, what managers open it with, reads Chinese
labels correctly only then.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from reports.intervals import Interval
from reports.metrics import METRIC_NAMES, derive
from reports.service import ReportResult

ChartKind = Literal["line", "bar", "pie"]
BOM = "\ufeff"


def to_csv(result: ReportResult, labels: Mapping[str, str]) -> str:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["interval_start", "key", "label", *METRIC_NAMES])
    for row in result.rows():
        values = row.metrics.as_dict()
        writer.writerow(
            [
                row.bucket.isoformat(),
                row.key,
                labels.get(row.key, row.key),
                *("" if values[m] is None else values[m] for m in METRIC_NAMES),
            ]
        )
    return out.getvalue()


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]


@dataclass(frozen=True)
class ChartData:
    kind: ChartKind
    title: str
    metric: str
    x: list[str] = field(default_factory=list)  # line: bucket labels; bar/pie: key labels
    series: list[Series] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "title": self.title,
            "metric": self.metric,
            "x": self.x,
            "series": [{"name": s.name, "values": s.values} for s in self.series],
        }


def _x_label(interval: Interval, bucket_iso: str) -> str:
    date, _, time = bucket_iso.partition("T")
    if interval is Interval.MONTH:
        return date[:7]
    if interval is Interval.DAY:
        return date
    return f"{date[5:]} {time[:5]}"


def chart_data(
    result: ReportResult, kind: ChartKind, metric: str, labels: Mapping[str, str], title: str
) -> ChartData:
    """line: the metric per bucket, one series per key; bar and pie: the metric over
    the whole range per key (pie needs a count such as offered or abandoned)."""
    if metric not in METRIC_NAMES:
        raise ValueError(f"unknown metric {metric!r}")
    if kind == "line":
        rows = result.rows(fill_empty=True)
        buckets = sorted({r.bucket for r in rows})
        keys = sorted({r.key for r in rows})
        grid = {(r.bucket, r.key): r.metrics.as_dict()[metric] for r in rows}
        return ChartData(
            kind,
            title,
            metric,
            [_x_label(result.query.interval, b.isoformat()) for b in buckets],
            [
                Series(labels.get(k, k) or title, [_num(grid.get((b, k))) for b in buckets])
                for k in keys
            ],
        )
    per_key = {k: derive(a).as_dict()[metric] for k, a in sorted(result.by_key().items())}
    return ChartData(
        kind,
        title,
        metric,
        [labels.get(k, k) or title for k in per_key],
        [Series(title, [_num(v) for v in per_key.values()])],
    )


def _num(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
