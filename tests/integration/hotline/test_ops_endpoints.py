"""Operations endpoints (issue 13) on the real Runtime and the sandbox Asterisk:

- /healthz answers; /readyz lists database, redis, the AMI link and the leader state and
  is 200; /metrics shows a caller waiting in its queue and the call in progress while
  the caller waits, and neither once the caller hangs up;
- when the Redis server goes away /readyz is 503 and names redis (while /healthz still
  answers: the process is alive, just not ready);
- a `pbx` process, which serves no API, answers the three on its ops port.
"""

from __future__ import annotations

import re
import shutil

import httpx
import pytest

from devtools.services.asterisk import AsteriskInstance
from devtools.services.net import free_port
from devtools.services.redis import start_redis
from hotline.runtime import Runtime
from tests.integration.hotline.support import asterisk_side, restart_settings
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["postgresql"])]


NODE = '{node="default"}'


def metric(text: str, name: str, labels: str = "") -> float | None:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+-]+)$", text, re.M)
    return float(match[1]) if match else None


async def test_given_a_running_backend_then_health_readiness_and_metrics_tell_the_truth(
    asterisk: AsteriskInstance, db_url: str
) -> None:
    redis = start_redis()
    try:
        settings = restart_settings(
            asterisk,
            db_url,
            HOTLINE_REDIS__URL=redis.url,
            HOTLINE_CLUSTER__LEASE_SECONDS="3",
            HOTLINE_CLUSTER__RENEW_SECONDS="0.5",
        )
        runtime = Runtime(settings)
        await runtime.start()
        try:
            duties = runtime.duties
            assert duties is not None
            await eventually(lambda: duties.active, 20, "the backend leads")
            base = f"http://{settings.http.host}:{settings.http.port}"
            async with (
                httpx.AsyncClient(base_url=base, timeout=10) as http,
                asterisk_side(asterisk, settings) as ast,
            ):
                assert (await http.get("/healthz")).json() == {"status": "alive"}
                r = await http.get("/readyz")
                assert r.status_code == 200, r.text
                checks = {c["name"]: c for c in r.json()["checks"]}
                assert {"database", "redis", "leader"} <= set(checks)
                assert any(name.startswith("ami:") and c["ok"] for name, c in checks.items())
                assert checks["leader"]["detail"].startswith("leading")

                call = await ast.call("13700000001", "ww5")  # business: no agent signed in

                async def waiting() -> bool:
                    text = (await http.get("/metrics")).text
                    return metric(text, "hotline_callers_waiting", '{queue="business"}') == 1.0

                await eventually(waiting, 60, "the waiting caller in /metrics")
                text = (await http.get("/metrics")).text
                assert (metric(text, "hotline_calls_in_progress", NODE) or 0) >= 1
                assert metric(text, "hotline_ami_up", NODE) == 1.0
                assert metric(text, "hotline_cluster_leader") == 1.0
                assert (metric(text, "hotline_bridge_event_lag_seconds_count", NODE) or 0) > 0
                assert (metric(text, "hotline_routing_request_seconds_count") or 0) > 0
                assert (metric(text, "hotline_bus_consume_lag_seconds_count") or 0) > 0
                await ast.hang_up(call)

                async def gone() -> bool:
                    text = (await http.get("/metrics")).text
                    return (
                        metric(text, "hotline_callers_waiting", '{queue="business"}') == 0.0
                        and metric(text, "hotline_calls_in_progress", NODE) == 0.0
                    )

                await eventually(gone, 30, "the caller gone from /metrics")

                redis.stop()
                r = await http.get("/readyz")
                assert r.status_code == 503, r.text
                failing = [c["name"] for c in r.json()["checks"] if not c["ok"]]
                assert failing == ["redis"]
                assert (await http.get("/healthz")).status_code == 200
        finally:
            await runtime.stop()
    finally:
        redis.stop()
        shutil.rmtree(redis.workdir, ignore_errors=True)


async def test_given_a_pbx_process_with_an_ops_port_then_it_answers_there(
    asterisk: AsteriskInstance, db_url: str
) -> None:
    port = free_port()
    settings = restart_settings(asterisk, db_url, HOTLINE_OPS__PORT=str(port))
    runtime = Runtime(settings, role="pbx")
    await runtime.start()
    try:
        assert [name for name, _ in runtime.components] == ["ivr", "duties", "ops_http"]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            assert (await http.get("/healthz")).status_code == 200
            r = await http.get("/readyz")
            assert r.status_code == 200, r.text
            assert 'hotline_ami_up{node="default"} 1.0' in (await http.get("/metrics")).text
            # Only operations here: the API is the api processes' job.
            assert (await http.get("/api/desk/config")).status_code == 404
    finally:
        await runtime.stop()
