"""Callbacks the dialplan captured while the backend was away.

Contract with extensions.conf [hotline-fallback] exten capture: every request is also kept
in AstDB as hotline/callback/<Uniqueid> = number,queue,priority,epoch,linkedid,customer id.
After each (re)connect the router reads them (AMI DBGetTree), makes sure each has its
callback_requests row (one per origin call: requests it already handled live are not
duplicated) and deletes the keys (DBDel).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Protocol

from cti.ami.errors import AmiActionFailed
from routing.pbx.callbacks import Callbacks

log = logging.getLogger("routing")
FAMILY = "hotline/callback"


class AmiSender(Protocol):
    async def send(self, action: str, headers: dict[str, Any] | None = None) -> Any: ...


async def forget(ami: AmiSender, linkedid: str) -> None:
    """A request handled live: drop its AstDB copy so no later recovery sees it again."""
    response = await ami.send("DBGetTree", {"Family": FAMILY})
    for frame in response.events:
        if frame.get("Event") == "DBGetTreeResponse":
            fields = str(frame.get("Val", "")).split(",")
            if len(fields) > 4 and fields[4] == linkedid:
                key = str(frame.get("Key", "")).rsplit("/", 1)[-1]
                with contextlib.suppress(AmiActionFailed):
                    await ami.send("DBDel", {"Family": FAMILY, "Key": key})


async def recover_callbacks(ami: AmiSender, callbacks: Callbacks) -> int:
    response = await ami.send("DBGetTree", {"Family": FAMILY})
    recovered = 0
    for frame in response.events:
        if frame.get("Event") != "DBGetTreeResponse":
            continue
        key = str(frame.get("Key", "")).rsplit("/", 1)[-1]
        number, queue, priority, epoch, linkedid, customer = (
            str(frame.get("Val", "")).split(",") + [""] * 6
        )[:6]
        try:
            at = float(epoch)
        except ValueError:
            at = callbacks.ctx.clock.timestamp()
        call = {
            "skill": queue,
            "priority": int(priority) if priority.isdigit() else None,
            "customer_id": customer or None,
            "queued_at": at,
            "caller_number": number,
        }
        await callbacks.requested(linkedid or key, number, call, at)
        with contextlib.suppress(AmiActionFailed):  # already gone (handled live meanwhile)
            await ami.send("DBDel", {"Family": FAMILY, "Key": key})
        recovered += 1
    if recovered:
        log.info("recovered %d callback request(s) from AstDB", recovered)
    return recovered
