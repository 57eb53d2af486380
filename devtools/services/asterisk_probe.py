"""A tiny blocking AMI check used only to tell when a sandbox Asterisk is ready.

(The product's AMI client lives in cti/; this one logs in, waits for FullyBooted, logs
off, and nothing else, so the dev service has no dependency on the code it serves.)
"""

from __future__ import annotations

import socket
import time


class AmiAuthError(RuntimeError):
    """Asterisk answered but refused the login: the rendered manager.conf is wrong."""


def fully_booted(host: str, port: int, username: str, secret: str, timeout: float = 5.0) -> bool:
    """True once a login as `username` succeeds and Asterisk reports FullyBooted.

    False while nothing listens yet or boot is still running; AmiAuthError if the
    credentials are refused.
    """
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((host, port), timeout=min(timeout, 1.0))
    except OSError:
        return False
    with sock:
        buf = b""
        try:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            while b"\r\n" not in buf:
                chunk = sock.recv(4096)
                if not chunk:
                    return False
                buf += chunk
            buf = buf.split(b"\r\n", 1)[1]  # the "Asterisk Call Manager/x.y" banner
            login = (
                f"Action: Login\r\nActionID: hotline-probe\r\nUsername: {username}\r\n"
                f"Secret: {secret}\r\nEvents: system\r\n\r\n"
            )
            sock.sendall(login.encode())
            logged_in = False
            while time.monotonic() < deadline:
                while b"\r\n\r\n" in buf:
                    raw, buf = buf.split(b"\r\n\r\n", 1)
                    headers = _headers(raw)
                    if headers.get("ActionID") == "hotline-probe":
                        if headers.get("Response") != "Success":
                            raise AmiAuthError(
                                f"AMI login as {username!r} refused: {headers.get('Message')}"
                            )
                        logged_in = True
                    elif headers.get("Event") == "FullyBooted" and logged_in:
                        sock.sendall(b"Action: Logoff\r\n\r\n")
                        return True
                sock.settimeout(max(0.05, deadline - time.monotonic()))
                chunk = sock.recv(65536)
                if not chunk:
                    return False
                buf += chunk
        except (TimeoutError, OSError):
            return False
    return False


def _headers(raw: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in raw.decode("utf-8", "replace").split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            out.setdefault(key.strip(), value.strip())
    return out
