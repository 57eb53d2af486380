"""Wired or it does not exist (issue 13): the real Runtime of each role, started against
the sandbox Asterisk, runs what that role owns and nothing else.

- `pbx` (Redis bus: a cluster member): the IVR's FastAGI server with its survey routes,
  and, once it leads, every cluster duty in order: the call log, the AMI bridge, the
  router, the agents' command server, the care duties (SLA monitor, follow-up dialer,
  webhook deliveries), recordings and the daily retention purge; no HTTP;
- `api`: the live view and the HTTP app, with every feature's routes served (the inbound
  integration API among them); no duty, no bridge, no router;
- `all` with the in-process bus: both, the desk talking to the router of its process.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from devtools.services.asterisk import AsteriskInstance
from hotline.care import TicketsRuntime
from hotline.runtime import Runtime
from hotline.wiring import DUTIES
from kernel.config import Settings
from tests.integration.hotline.support import fresh_redis, restart_settings
from tests.support import eventually
from tests.unit.test_http_wiring import EXPECTED

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["postgresql"])]
WEBHOOK = '[{name: dispatch, url: "http://127.0.0.1:9/hook", secret_env: HOTLINE_SECRET_DISPATCH}]'


@contextlib.asynccontextmanager
async def started(settings: Settings, role: str) -> AsyncIterator[Runtime]:
    runtime = Runtime(settings, role=role)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


def care_duties(runtime: Runtime) -> set[str]:
    care = runtime.component("tickets")
    assert isinstance(care, TicketsRuntime)
    return {type(c).__name__ for c in care.components}


async def served_routes(settings: Settings) -> set[tuple[str, str]]:
    base = f"http://{settings.http.host}:{settings.http.port}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        document = (await http.get("/openapi.json")).json()
    return {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}


async def test_given_each_role_when_the_real_runtime_starts_then_each_part_runs_where_it_belongs(
    asterisk: AsteriskInstance, db_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_SECRET_DISPATCH", "s3cret")
    shared = await fresh_redis(redis_url, db=14)
    cluster = restart_settings(
        asterisk, db_url, HOTLINE_REDIS__URL=shared, HOTLINE_TICKETS__WEBHOOKS=WEBHOOK
    )

    async with started(cluster, "pbx") as pbx:
        duties = pbx.duties
        assert duties is not None
        leading = duties
        await eventually(lambda: leading.active, 20, "the only pbx process leads")
        assert [name for name, _ in duties.running] == [name for name, _ in DUTIES]
        assert care_duties(pbx) == {"SlaMonitor", "FollowUpDialer", "WebhookGateway"}
        features = pbx.services.features if pbx.services else None
        assert features is not None
        assert features.ivr is not None
        assert features.surveys is not None  # the survey routes of the IVR's server
        assert features.bridge is not None
        assert features.routing is not None
        assert "http" not in {name for name, _ in pbx.components}

        async with started(cluster, "api") as api:
            assert [name for name, _ in api.components] == ["live", "http"]
            assert api.duties is None
            assert api.services is not None
            assert (api.services.features.routing, api.services.pbx) == (None, None)
            assert EXPECTED - await served_routes(cluster) == set()

    alone = restart_settings(asterisk, db_url)  # the in-process bus: one process
    async with started(alone, "all") as everything:
        assert [name for name, _ in everything.components] == ["live", "ivr", "duties", "http"]
        duties = everything.duties
        assert duties is not None
        assert duties.active
        # No command servers: the desk of this process talks to its router and its
        # recordings service directly.
        assert [name for name, _ in duties.running] == [
            name
            for name, _ in DUTIES
            if name
            not in ("agent_commands", "supervisor_actions", "recording_control", "call_control")
        ]
        assert EXPECTED - await served_routes(alone) == set()
