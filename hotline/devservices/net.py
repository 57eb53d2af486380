"""Loopback helpers shared by the dev services."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


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
