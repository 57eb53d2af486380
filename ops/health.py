"""Liveness and readiness.

`/healthz`: the process answers (its event loop runs); nothing else is asked, so a
database outage does not get every process restarted by its supervisor.

`/readyz`: may this process take work? Each check has a name, a result and a short
reason; the process is ready when every *required* check passes:
- database: `SELECT 1` within CHECK_SECONDS;
- redis: PING within CHECK_SECONDS, when the bus is Redis (several processes);
- ami:<node>: the AMI link is logged in, when this process runs the bridge (it leads);
- leader: informative only (leading or standby): a standby is ready to take over, and
  a load balancer must not take it out of service for being one.
`evaluate` is the pure rule; the checks are adapters.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
import sqlalchemy as sa

from hotline.services import Services
from kernel.bus import is_shared
from ops.leader import leader_state

CHECK_SECONDS = 2.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True


def evaluate(checks: list[Check]) -> tuple[bool, dict[str, Any]]:
    """(ready, the JSON body): ready when every required check passes."""
    ready = all(c.ok for c in checks if c.required)
    return ready, {
        "ready": ready,
        "checks": [
            {"name": c.name, "ok": c.ok, "detail": c.detail, "required": c.required} for c in checks
        ],
    }


async def _database(services: Services) -> Check:
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            async with services.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any failure is "not ready", with its kind, never a secret
        return Check("database", False, type(exc).__name__)
    return Check("database", True, services.engine.dialect.name)


async def _redis(url: str) -> Check:
    client: Any = aioredis.Redis.from_url(
        url, socket_timeout=CHECK_SECONDS, socket_connect_timeout=CHECK_SECONDS
    )
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            await client.ping()
    except Exception as exc:
        return Check("redis", False, type(exc).__name__)
    finally:
        await client.aclose()
    return Check("redis", True, "pong")


def _ami(services: Services) -> list[Check]:
    """One check per Asterisk node whose bridge runs here (ami:<node>)."""
    checks = []
    for bridge in services.features.bridges:
        connected = bridge.client.ready
        checks.append(
            Check(f"ami:{bridge.node}", connected, "logged in" if connected else "not connected")
        )
    return checks


def _leader(services: Services) -> list[Check]:
    state = leader_state(services)
    if state is None:
        return []
    if state.leading:
        return [Check("leader", True, f"leading, term {state.term}", required=False)]
    return [Check("leader", True, "standby", required=False)]


async def readiness(services: Services) -> tuple[bool, dict[str, Any]]:
    checks = [await _database(services)]
    url = services.settings.redis.url
    if is_shared(url):
        checks.append(await _redis(url))
    checks += _ami(services) + _leader(services)
    return evaluate(checks)
