"""A small SVG chart renderer (line, bar, pie) with no dependencies. Pure.

Text uses Noto Sans CJK (Debian fonts-noto-cjk) so Chinese labels render the same in the
browser and in PNGs made by rsvg-convert (reports/png.py).
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

from reports.export import ChartData

PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777",
           "#65a30d", "#475569", "#ea580c"]  # fmt: skip
FONT = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, sans-serif"
W, H = 800, 420
LEFT, RIGHT, TOP, BOTTOM = 64, 170, 48, 72


def render_svg(chart: ChartData, width: int = W, height: int = H) -> str:
    body = {"line": _line, "bar": _bar, "pie": _pie}[chart.kind](chart, width, height)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="12">'
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>'
        f'<text x="{width / 2}" y="28" text-anchor="middle" font-size="16" '
        f'font-weight="bold">{escape(chart.title)}</text>{body}</svg>'
    )


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.2f}"


def _axes(chart: ChartData, width: int, height: int, top_value: float) -> list[str]:
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    parts = []
    for i in range(5):
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#e5e7eb"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#374151">'
            f"{_fmt(top_value * i / 4)}</text>"
        )
    n = max(1, len(chart.x))
    every = max(1, math.ceil(n / 12))  # at most ~12 x labels
    for i, label in enumerate(chart.x):
        if i % every:
            continue
        x = LEFT + plot_w * (i + 0.5) / n
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="end" fill="#374151" '
            f'transform="rotate(-35 {x:.1f} {TOP + plot_h + 16})">{escape(label)}</text>'
        )
    return parts


def _legend(names: list[str], width: int) -> list[str]:
    parts = []
    for i, name in enumerate(names[:18]):
        y = TOP + i * 18
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<rect x="{width - RIGHT + 16}" y="{y}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{width - RIGHT + 34}" y="{y + 10}">{escape(name)}</text>'
        )
    return parts


def _top(chart: ChartData) -> float:
    values = [v for s in chart.series for v in s.values if v is not None]
    return _nice_max(max(values, default=0.0))


def _line(chart: ChartData, width: int, height: int) -> str:
    top = _top(chart)
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    n = max(1, len(chart.x))
    parts = _axes(chart, width, height, top)
    for i, series in enumerate(chart.series):
        colour = PALETTE[i % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for j, value in enumerate(series.values):
            if value is None:  # a gap, not a drop to zero
                runs.append([])
                continue
            x = LEFT + plot_w * (j + 0.5) / n
            y = TOP + plot_h - plot_h * value / top
            runs[-1].append(f"{x:.1f},{y:.1f}")
        for run in runs:
            if run:
                parts.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                    f'points="{" ".join(run)}"/>'
                )
    parts += _legend([s.name for s in chart.series], width)
    return "".join(parts)


def _bar(chart: ChartData, width: int, height: int) -> str:
    top = _top(chart)
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    values = chart.series[0].values if chart.series else []
    n = max(1, len(values))
    slot = plot_w / n
    parts = _axes(chart, width, height, top)
    for i, value in enumerate(values):
        h = plot_h * (value or 0) / top
        x = LEFT + slot * i + slot * 0.15
        parts.append(
            f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{PALETTE[i % len(PALETTE)]}"/>'
        )
        if value is not None:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{TOP + plot_h - h - 4:.1f}" '
                f'text-anchor="middle" fill="#111827">{_fmt(value)}</text>'
            )
    return "".join(parts)


def _pie(chart: ChartData, width: int, height: int) -> str:
    values = [max(0.0, v or 0.0) for v in (chart.series[0].values if chart.series else [])]
    total = sum(values)
    cx, cy = (width - RIGHT) / 2, TOP + (height - TOP - 16) / 2
    r = min(width - RIGHT, height - TOP - 16) / 2 - 8
    parts: list[str] = []
    if total <= 0:
        parts.append(f'<text x="{cx}" y="{cy}" text-anchor="middle" fill="#6b7280">—</text>')
        return "".join(parts)
    angle = -math.pi / 2
    for i, value in enumerate(values):
        if value <= 0:
            continue
        colour = PALETTE[i % len(PALETTE)]
        if value == total:
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{colour}"/>')
            break
        sweep = 2 * math.pi * value / total
        x1, y1 = cx + r * math.cos(angle), cy + r * math.sin(angle)
        x2, y2 = cx + r * math.cos(angle + sweep), cy + r * math.sin(angle + sweep)
        large = 1 if sweep > math.pi else 0
        parts.append(
            f'<path d="M{cx:.1f},{cy:.1f} L{x1:.1f},{y1:.1f} A{r:.1f},{r:.1f} 0 {large} 1 '
            f'{x2:.1f},{y2:.1f} Z" fill="{colour}" stroke="#ffffff"/>'
        )
        angle += sweep
    names = [f"{name} {100 * v / total:.1f}%" for name, v in zip(chart.x, values, strict=False)]
    parts += _legend(names, width)
    return "".join(parts)
