"""What the adapter knows about calls beyond the routing core: the caller's channel
(to redirect it), the latest call snapshot (for the screen-pop), and aliases.

An alias maps a Linkedid to the routing core's call id when they differ: a callback is
known to the core as "cb-<callback_requests.id>" and each attempt dials with a new
Linkedid ("hlcb-..."). Plain data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LiveCall:
    linkedid: str
    channel: str | None = None
    uniqueid: str | None = None
    queue: str | None = None
    node: str | None = None  # the Asterisk node the caller is on (pbx.nodes)
    snapshot: dict[str, Any] = field(default_factory=dict)
    rang_at: dict[str, float] = field(default_factory=dict)  # extension -> dial began


class LiveCalls:
    def __init__(self) -> None:
        self.calls: dict[str, LiveCall] = {}
        self._alias: dict[str, str] = {}  # linkedid -> core call id
        self._linkedid: dict[str, str] = {}  # core call id -> current linkedid

    def get(self, linkedid: str) -> LiveCall:
        call = self.calls.get(linkedid)
        if call is None:
            call = self.calls[linkedid] = LiveCall(linkedid)
        return call

    def core_id(self, linkedid: str) -> str:
        return self._alias.get(linkedid, linkedid)

    def linkedid(self, core_id: str) -> str:
        return self._linkedid.get(core_id, core_id)

    def alias(self, linkedid: str, core_id: str) -> None:
        self._alias[linkedid] = core_id
        self._linkedid[core_id] = linkedid

    def forget(self, linkedid: str) -> None:
        self.calls.pop(linkedid, None)
        core = self._alias.pop(linkedid, None)
        if core is not None and self._linkedid.get(core) == linkedid:
            del self._linkedid[core]
