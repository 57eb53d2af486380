"""Test ports are chosen where the kernel never puts the local end of an outgoing
connection, so a port picked now is still free when a test binds it later."""

from __future__ import annotations

import socket
from pathlib import Path

from devtools.services.net import PORT_RANGE_LOW, free_port


def test_free_ports_are_below_the_ephemeral_range_and_bindable() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for udp in (False, True):
        port = free_port(udp=udp)
        assert PORT_RANGE_LOW <= port < low
        kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", port))
