"""bench/capacity.py's summary: the highest sustained rate of each side and the ratio."""

from __future__ import annotations

from bench.capacity_ramp import Step, hist_pct, sustained

TARGET = 0.8


def summary(steps: dict[str, list[Step]], levels: list[float]) -> list[str]:
    lines: list[str] = []
    best = {side: sustained(s) for side, s in steps.items()}
    capped = {
        side: bool(s) and all(x.ok for x in s) and s[-1].cps >= levels[-1]
        for side, s in steps.items()
    }
    for side, name in (("hotline", "Hotline"), ("plain", "plain dialplan")):
        if side not in steps:
            continue
        b = best[side]
        if b is None:
            lines.append(f"{name}: failed already at {levels[0]:g} cps")
            continue
        more = " (never failed: the ramp's top; raise --max-cps)" if capped[side] else ""
        lines.append(
            f"{name}: sustained {b.cps:g} cps{more}, {b.peak_calls} simultaneous calls, "
            f"first prompt p99 {_p99(b.prompt_waits) * 1000:.0f} ms, backend CPU "
            f"{b.backend_cpu:.1f} % of a core, RSS {b.backend_rss:.1f} MB, Asterisk CPU "
            f"{b.asterisk_cpu:.1f} %, bridge lag p50 {hist_pct(b.lag, 50) * 1000:.1f} ms p99 "
            f"{hist_pct(b.lag, 99) * 1000:.1f} ms"
        )
    h, p = best.get("hotline"), best.get("plain")
    if h is not None and p is not None:
        ratio = h.cps / p.cps
        verdict = "met" if ratio >= TARGET else "NOT met"
        bound = " (plain never failed: a ceiling above this)" if capped.get("plain") else ""
        lines.append(
            f"ratio Hotline/plain sustained cps {ratio:.2f}x{bound} "
            f"(target >= {TARGET}x: {verdict})"
        )
    return lines


def _p99(values: list[float]) -> float:
    from bench.capacity_ramp import pct

    return pct(values, 99)
