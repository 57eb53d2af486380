"""Configuration reload without a restart: `kill -HUP <pid>` for one process, or `hotline
reload` for every process of the center (a `config.reload` message on the bus, topic
CONTROL).

A process reads its configuration again (the same file and environment as at start) and,
when it is valid, applies it: `services.settings` is replaced (the HTTP side reads it per
request: labels, reasons, notices), each component with a `reload()` takes what it needs
(the IVR: its menu, prompts and business hours; the leader's duties: the router is built
again from the new queues and steps and rebuilds its line from Asterisk and the
database). No call is dropped and no desktop is disconnected: the sockets, the AMI link
and the calls stay as they are. An invalid file changes nothing (the error is logged,
and `hotline reload` reports it before sending anything). Settings that need new
connections (database, Redis, the AMI link, the ports, the cluster's lease) are reported
as needing a restart and take effect at the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from kernel import topics
from kernel.bus.port import BusClosed, EventBus, Subscription
from kernel.config import Settings

log = logging.getLogger("hotline.reload")

RELOAD = "config.reload"
# (section, attribute) pairs whose change needs a restart: they open connections or bind.
RESTART_ONLY: tuple[tuple[str, ...], ...] = (
    ("database",),
    ("redis",),
    ("cluster",),
    ("http", "host"),
    ("http", "port"),
    ("pbx", "ami"),
    ("pbx", "fastagi"),
    ("pbx", "nodes"),
    ("pbx", "cel"),
    ("pbx", "kind"),
    ("auth", "secret_key"),
)


def needs_restart(old: Settings, new: Settings) -> list[str]:
    """The settings that differ and only take effect at the next start."""
    changed = []
    for path in RESTART_ONLY:
        a: Any = old
        b: Any = new
        for part in path:
            a, b = getattr(a, part), getattr(b, part)
        if a != b:
            changed.append(".".join(path))
    return changed


def reload_message(at: float) -> dict[str, Any]:
    return {"type": RELOAD, "at": at}


class ReloadListener:
    """Hears `config.reload` on the bus and runs `reload` (the Runtime's)."""

    def __init__(self, bus: EventBus, reload: Callable[[], Awaitable[object]]) -> None:
        self._bus = bus
        self._reload = reload
        self._sub: Subscription | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._sub = await self._bus.subscribe(topics.CONTROL)
        self._task = asyncio.create_task(self._listen(self._sub), name="config-reload")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._sub is not None:
            await self._sub.close()
            self._sub = None

    async def _listen(self, sub: Subscription) -> None:
        while True:
            try:
                message = await sub.get()
            except BusClosed:
                return
            if message.data.get("type") == RELOAD:
                try:
                    await self._reload()
                except Exception:  # a failed reload must not end the listener
                    log.exception("configuration reload failed")
