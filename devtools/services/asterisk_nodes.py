"""Two sandbox Asterisks as two nodes of one center (pbx.nodes), for tests, the cluster
demo and benchmarks: each renders its systemname and a digest-authenticated trunk to the
other (cti/pbx_config.py), both send their IVR to one FastAGI port, and the test agents
(Local channels) are told which node their phone is on.

    pair = start_node_pair("demo", settings)
    env = pair.env()      # HOTLINE_* for a backend on both nodes
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from devtools.services.asterisk import (
    TEST_AGENT_ENDPOINT,
    AsteriskInstance,
    free_udp_port,
    start_instance,
)
from devtools.services.net import free_port
from kernel.config import Settings


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


def start_node_pair(name: str, settings: Settings) -> NodePair:
    """Two instances `<name>-na` and `<name>-nb`; one AMI secret (HOTLINE_PBX__AMI__SECRET
    serves both nodes), one trunk secret, one FastAGI port."""
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
