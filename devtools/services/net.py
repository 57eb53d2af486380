"""Loopback helpers shared by the dev services."""

from __future__ import annotations

import os
import random
import socket
import time
from pathlib import Path

# Below the kernel's ephemeral range (ip_local_port_range, 32768 by default) and above
# the sandbox Asterisk's RTP ports (deploy/asterisk/rtp.conf: 10000-20000).
PORT_RANGE_LOW = 20001


def free_port(host: str = "127.0.0.1", *, udp: bool = False) -> int:
    """A port nobody uses right now, outside the kernel's ephemeral range.

    A port the kernel picks itself (bind to 0) comes from the range it also gives to the
    local end of outgoing connections, so a port chosen now and bound later (a test's
    FastAGI server on the port its Asterisk was configured with) can meanwhile be taken
    by any outgoing connection on the machine. Ports below that range are not.
    """
    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    low = _ephemeral_low()
    if low - PORT_RANGE_LOW >= 1000:
        for _ in range(100):
            port = random.randrange(PORT_RANGE_LOW, low)
            with socket.socket(socket.AF_INET, kind) as s:
                try:
                    s.bind((host, port))
                except OSError:
                    continue
                return port
    with socket.socket(socket.AF_INET, kind) as s:  # a machine with an unusual range
        s.bind((host, 0))
        picked: int = s.getsockname()[1]
        return picked


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f}s")


def cache_dir() -> Path:
    """Where slow-to-build things (the Asterisk root, a PostgreSQL template) are kept
    between runs: $HOTLINE_CACHE, else ~/.cache/hotline."""
    path = Path(os.environ.get("HOTLINE_CACHE", Path.home() / ".cache" / "hotline"))
    path.mkdir(parents=True, exist_ok=True)
    return path
