"""Session-wide real Asterisk 22 for the integration tests.

`asterisk` starts one sandbox instance (devtools/services/asterisk.py) on free loopback
ports with a fresh AMI secret; agents are Local channels into hotline-test-agent
(deploy/asterisk/extensions_test.conf). FastAGI points at `asterisk.fastagi_port`, where
nothing listens until a test starts its own FastAGI server there -- so without one the
dialplan's "backend away" path runs. `asterisk_env` is the HOTLINE_* environment that
points a backend at this instance (feed it to load_settings(env=...)).
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.services.asterisk import (
    TEST_AGENT_ENDPOINT,
    AsteriskInstance,
    ensure_root,
    free_udp_port,
    pid_alive,
    remove_stale_instances,
    start_instance,
)
from devtools.services.net import free_port
from kernel.config import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A real PBX belongs to integration tests only (`make unit` must not start one).
    for item in items:
        if "asterisk" in getattr(item, "fixturenames", ()) and not item.get_closest_marker(
            "integration"
        ):
            raise pytest.UsageError(f"{item.nodeid} uses the asterisk fixture: mark it integration")


def start_test_instance(name: str, settings: Settings | None = None) -> AsteriskInstance:
    """An instance on free ports with a generated secret (the fixture's recipe)."""
    settings = settings or load_settings(REPO / "config.yaml", env={})
    return start_instance(
        name,
        settings=settings,
        ami_port=free_port(),
        sip_port=free_udp_port(),
        fastagi_port=free_port(),
        ami_secret=secrets.token_hex(16),
        sip_password=secrets.token_hex(8),
        agent_endpoint=TEST_AGENT_ENDPOINT,
    )


def _owner_gone(name: str) -> bool:
    match = re.match(r"test-(\d+)", name)
    return match is not None and not pid_alive(int(match.group(1)))


@pytest.fixture(scope="session")
def asterisk() -> Iterator[AsteriskInstance]:
    root = ensure_root()
    # Directories of earlier runs are kept for post-mortems until the next run; an
    # instance whose test run was killed before its teardown is stopped here.
    remove_stale_instances("test-", root=root, orphaned=_owner_gone)
    instance = start_test_instance(f"test-{os.getpid()}")
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="session")
def asterisk_env(asterisk: AsteriskInstance) -> dict[str, str]:
    return asterisk.settings_env()


@dataclass
class NodePair:
    """Two sandbox Asterisks as two nodes of one center (pbx.nodes): each renders its
    systemname and a trunk to the other; both send their IVR to one FastAGI port."""

    a: AsteriskInstance
    b: AsteriskInstance

    def env(self, agents_a: str = "1001-1009", agents_b: str = "1010-1020") -> dict[str, str]:
        """HOTLINE_* for a backend on both nodes (the first one's settings_env, with
        pbx.nodes naming both; agents homed by extension until their phones say)."""
        nodes = [
            {
                "name": NODE_NAMES[0],
                "ami": {"host": self.a.ami_host, "port": self.a.ami_port},
                "sip": {"host": "127.0.0.1", "port": self.a.sip_port},
                "cel_url": f"sqlite:///{self.a.cel_db}",
                "agents": [agents_a],
            },
            {
                "name": NODE_NAMES[1],
                "ami": {"host": self.b.ami_host, "port": self.b.ami_port},
                "sip": {"host": "127.0.0.1", "port": self.b.sip_port},
                "cel_url": f"sqlite:///{self.b.cel_db}",
                "agents": [agents_b],
            },
        ]
        return {**self.a.settings_env(), "HOTLINE_PBX__NODES": json.dumps(nodes)}

    def stop(self) -> None:
        for instance in (self.b, self.a):
            instance.stop()


NODE_NAMES = ("na", "nb")


def start_node_pair(name: str, settings: Settings | None = None) -> NodePair:
    """Two instances `<name>-na` and `<name>-nb`; one AMI secret (HOTLINE_PBX__AMI__SECRET
    serves both nodes), one trunk secret, one FastAGI port."""
    settings = settings or load_settings(REPO / "config.yaml", env={})
    secret, trunk = secrets.token_hex(16), secrets.token_hex(12)
    fastagi, sip = free_port(), (free_udp_port(), free_udp_port())
    started: list[AsteriskInstance] = []
    try:
        for i, node in enumerate(NODE_NAMES):
            other = NODE_NAMES[1 - i]
            started.append(
                start_instance(
                    f"{name}-{node}",
                    settings=settings,
                    ami_port=free_port(),
                    sip_port=sip[i],
                    fastagi_port=fastagi,
                    ami_secret=secret,
                    sip_password=secrets.token_hex(8),
                    agent_endpoint=TEST_AGENT_ENDPOINT,
                    render={
                        "node": node,
                        "peers": ((other, "127.0.0.1", sip[1 - i]),),
                        "trunk_secret": trunk,
                    },
                )
            )
    except BaseException:
        for instance in started:
            instance.stop()
        raise
    return NodePair(started[0], started[1])
