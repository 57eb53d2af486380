"""A whole center on several processes on this machine: the sandbox Asterisk 22 (or two,
as two nodes joined by the inter-node trunk: devtools/services/asterisk_nodes.py), a
PostgreSQL and a Redis of its own, `pbx` processes (one leads the cluster duties, the
others stand by; they share the FastAGI port) and `api` processes, each a real
`hotline serve`. For `hotline-dev demo --cluster` and bench/cluster.py.

    async with local_cluster(work, settings, pbx=2, api=2) as cluster:
        cluster.leader()              # the pbx process that leads now
        await cluster.kill_leader()   # SIGKILL it; seconds until a standby led
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from devtools.processes import LEADING, ServeProcess, start_serve
from devtools.services.asterisk import (
    TEST_AGENT_ENDPOINT,
    AsteriskInstance,
    ensure_root,
    free_udp_port,
    start_instance,
)
from devtools.services.asterisk_nodes import NODE_NAMES, NodePair, start_node_pair
from devtools.services.net import free_port
from devtools.services.postgres import PostgresServer, start_postgres
from devtools.services.redis import RedisServer, start_redis
from kernel.config import Settings, load_settings

DUTIES_STARTED = "started duty retention"
# With two nodes: the demo's agents agent01..agent12 (1001..1012), half on each.
NODE_AGENTS = {
    "agents_a": "1001-1006",
    "agents_b": "1007-1020",
}  # the last duty of hotline/wiring.py DUTIES


@dataclass
class LocalCluster:
    work: Path
    config: Path
    asterisk: AsteriskInstance  # the (first) node
    postgres: PostgresServer
    redis: RedisServer
    env: dict[str, str]
    pbx: list[ServeProcess] = field(default_factory=list)
    api: list[ServeProcess] = field(default_factory=list)
    api_ports: list[int] = field(default_factory=list)
    ops_ports: dict[str, int] = field(default_factory=dict)  # pbx process -> its ops port
    # Two Asterisk nodes (pbx.nodes), when started with nodes=2: node name -> instance.
    nodes: dict[str, AsteriskInstance] = field(default_factory=dict)
    _started: int = 0

    @property
    def settings(self) -> Settings:
        return load_settings(self.config, env=self.env)

    def api_url(self, n: int = 0) -> str:
        return f"http://127.0.0.1:{self.api_ports[n]}"

    def leader(self) -> ServeProcess | None:
        """The pbx process that leads now (by the processes' logs)."""
        return next((p for p in self.pbx if p.leading()), None)

    def start_pbx(self) -> ServeProcess:
        self._started += 1
        name, port = f"pbx-{self._started}", free_port()
        # Its own /healthz /readyz /metrics, as on a real pbx machine (deploy/README.md).
        env = {**self.env, "HOTLINE_OPS__PORT": str(port)}
        process = start_serve(name, "pbx", env, self.work / "logs", config=self.config)
        self.pbx.append(process)
        self.ops_ports[name] = port
        return process

    def start_api(self) -> ServeProcess:
        port = free_port()
        env = {**self.env, "HOTLINE_HTTP__PORT": str(port)}
        n = len(self.api) + 1
        process = start_serve(f"api-{n}", "api", env, self.work / "logs", config=self.config)
        self.api.append(process)
        self.api_ports.append(port)
        return process

    async def kill_leader(self, timeout: float = 60.0) -> tuple[float, float]:
        """SIGKILL the leader; (seconds until a standby holds the lease, seconds until
        its duties have all started)."""
        leader = self.leader()
        if leader is None:
            raise RuntimeError("no pbx process leads")
        standbys = [p for p in self.pbx if p.alive() and p is not leader]
        if not standbys:
            raise RuntimeError("no standby to take over")
        terms = {p.name: p.terms() for p in standbys}
        started = {p.name: p.log().count(DUTIES_STARTED) for p in standbys}
        killed_at = time.monotonic()
        leader.kill()
        self.pbx.remove(leader)
        deadline = killed_at + timeout
        while time.monotonic() < deadline:
            for p in standbys:
                if p.terms() > terms[p.name]:
                    led = time.monotonic() - killed_at
                    await p.wait_for(DUTIES_STARTED, timeout, count=started[p.name] + 1)
                    return led, time.monotonic() - killed_at
            await asyncio.sleep(0.01)
        raise TimeoutError(f"no standby led within {timeout}s of the kill")

    async def stop(self) -> None:
        for p in [*self.api, *self.pbx]:
            await p.stop()


@contextlib.asynccontextmanager
async def local_cluster(
    work: Path,
    config: Path,
    *,
    pbx: int = 2,
    api: int = 1,
    lease_seconds: float = 3.0,
    renew_seconds: float = 0.5,
    extra_env: dict[str, str] | None = None,
    seed_customers: int | None = None,
    nodes: int = 1,
) -> AsyncIterator[LocalCluster]:
    """Start everything (the first pbx process leads), yield, stop everything. With
    `seed_customers`, the demo's data (agents agent01.., customers) is seeded before the
    processes start; with `nodes=2`, two Asterisks (agents 1001-1009 on node na,
    1010-1020 on node nb)."""
    await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
    base = load_settings(config, env={})
    await asyncio.to_thread(ensure_root)
    name = f"cluster-{secrets.token_hex(3)}"
    pair: NodePair | None = None
    if nodes == 2:
        pair = await asyncio.to_thread(start_node_pair, name, base)
        asterisk, node_env = pair.a, pair.env(**NODE_AGENTS)
    elif nodes == 1:
        asterisk = await asyncio.to_thread(
            start_instance,
            name,
            settings=base,
            ami_port=free_port(),
            sip_port=free_udp_port(),
            fastagi_port=free_port(),
            ami_secret=secrets.token_hex(16),
            sip_password="hotline",
            agent_endpoint=TEST_AGENT_ENDPOINT,
        )
        node_env = asterisk.settings_env()
    else:
        raise ValueError("nodes: 1 or 2")
    postgres: PostgresServer | None = None
    redis: RedisServer | None = None
    cluster: LocalCluster | None = None
    try:
        postgres = await asyncio.to_thread(start_postgres)
        await asyncio.to_thread(postgres.create_database, "hotline")
        redis = await asyncio.to_thread(start_redis)
        env = {
            **node_env,
            "HOTLINE_DATABASE__URL": postgres.url("hotline"),
            "HOTLINE_REDIS__URL": redis.url,
            "HOTLINE_AUTH__SECRET_KEY": secrets.token_hex(32),
            "HOTLINE_AT_REST_KEY": secrets.token_hex(32),  # recordings sealed at rest
            "HOTLINE_PBX__FASTAGI__SHARED_PORT": "true",
            "HOTLINE_CLUSTER__LEASE_SECONDS": str(lease_seconds),
            "HOTLINE_CLUSTER__RENEW_SECONDS": str(renew_seconds),
            **(extra_env or {}),
        }
        cluster = LocalCluster(work, config, asterisk, postgres, redis, env)
        if pair is not None:
            cluster.nodes = {NODE_NAMES[0]: pair.a, NODE_NAMES[1]: pair.b}
        if seed_customers is not None:
            from devtools.demo.session import seed_demo

            await asyncio.to_thread(seed_demo, cluster.settings, seed_customers)
        first = cluster.start_pbx()
        await first.wait_for(DUTIES_STARTED, 120)  # it migrates the database first
        for _ in range(pbx - 1):
            await cluster.start_pbx().wait_for("serving FastAGI", 60)
        for _ in range(api):
            await cluster.start_api().wait_for("serving on", 60)
        yield cluster
    finally:
        if cluster is not None:
            await cluster.stop()
        if redis is not None:
            await asyncio.to_thread(redis.stop)
        if postgres is not None:
            await asyncio.to_thread(postgres.stop)
        await asyncio.to_thread(pair.stop if pair is not None else asterisk.stop)


__all__ = ["LEADING", "LocalCluster", "local_cluster"]
