"""`make demo-cluster` in small: `hotline-dev demo --cluster` (two sandbox Asterisk
nodes, PostgreSQL, Redis, two pbx and two api processes) with the leader killed every 15 s.

What a newcomer should see: the banner with both api processes' pages and which pbx
process leads, each kill followed by a standby taking over, simulated calls answered,
and the call log holding one record per call.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


# The demo runs 55 s after its set-up (~110 s in all on a loaded machine). Kills come
# every 15 s once a standby is there: a slow start of the replacement standby (two
# Asterisk nodes on a loaded machine; CI run 11 saw one kill in 40 s when the cadence
# waited for it) delays a kill but not the next. Its subprocess is bounded at 240 s.
@pytest.mark.timeout(270)
def test_cluster_demo_survives_killed_leaders_and_logs_every_call_once(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "devtools.cli",
            "demo",
            "--cluster",
            "--duration",
            "55",
            "--kill-leader-every",
            "15",
            "--call-every",
            "2",
            "--customers",
            "300",
            "--var",
            str(tmp_path / "demo"),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert "Hotline cluster demo is running." in out
    assert len(re.findall(r"api-\d: desk http://127\.0\.0\.1:\d+/desk/", out)) == 2, out[-3000:]
    assert re.search(r"pbx-1 \(pid \d+\): .*leads the duties", out)
    # Every process's readiness and metrics: two api, two pbx (their ops port).
    assert len(re.findall(r"readiness http://127\.0\.0\.1:\d+/readyz", out)) == 4, out[-3000:]
    took_over = re.findall(r"took over: lease after ([\d.]+) s", out)
    # Every 15 s on a fixed cadence: three kills in 55 s, at least two on a slow machine.
    assert len(took_over) >= 2, out[-3000:]
    assert all(float(s) < 10 for s in took_over)
    assert "Traceback" not in out, out[-4000:]
    log = re.search(r"call log: (\d+) records for (\d+) calls, (\d+) answered", out)
    assert log is not None, out[-3000:]
    records, calls, answered = int(log[1]), int(log[2]), int(log[3])
    assert records == calls >= 5, out[-3000:]
    # Both Asterisk nodes ran, and callers came in on each.
    assert len(re.findall(r"Asterisk node n[ab] \(pid \d+\)", out)) == 2, out[-3000:]
    per_node = dict(re.findall(r"node (n[ab]) (\d+)", out.rsplit("call log:", 1)[-1]))
    assert set(per_node) == {"na", "nb"}, out[-3000:]
    # Eight simulated agents who talk 20-60 s: each answers about one call in 55 s (that
    # routing goes on after a takeover is test_cluster_failover.py's to show).
    assert answered >= 4, out[-3000:]
