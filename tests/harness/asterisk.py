"""Session-wide real Asterisk 22 for the integration tests.

`asterisk` starts one sandbox instance (devtools/services/asterisk.py) on free loopback
ports with a fresh AMI secret; agents are Local channels into hotline-test-agent
(deploy/asterisk/extensions_test.conf). FastAGI points at `asterisk.fastagi_port`, where
nothing listens until a test starts its own FastAGI server there -- so without one the
dialplan's "backend away" path runs. `asterisk_env` is the HOTLINE_* environment that
points a backend at this instance (feed it to load_settings(env=...)).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
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
from devtools.services.asterisk_nodes import NodePair, start_node_pair
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


def start_test_node_pair(name: str) -> NodePair:
    """Two nodes on free ports (devtools/services/asterisk_nodes.py), config.yaml's
    settings."""
    return start_node_pair(name, load_settings(REPO / "config.yaml", env={}))
