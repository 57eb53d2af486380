"""Which calls are recorded, where the file goes, and which channel carries it. Pure.

Paths: the recordings row stores the path relative to `recording.root` (the backend's
view of the directory); Asterisk writes the same file under `recording.asterisk_root`
(its own view: chroot, NFS mount), which defaults to `recording.root`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from cti.commands import ChannelInfo
from cti.tracking.model import extension_of
from cti.tracking.tracker import FOREIGN_CHANNEL_PREFIX
from kernel.config.care import RecordingSettings

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def should_record(
    settings: RecordingSettings, snapshot: dict[str, Any], agent_username: str | None = None
) -> bool:
    """Start on answer? mode all: every answered call; queues: calls of the listed
    queues; agents: calls answered by a listed agent (extension or username);
    on_demand: never automatically (an agent or supervisor starts it)."""
    if settings.mode == "all":
        return True
    if settings.mode == "queues":
        return (snapshot.get("skill") or "") in settings.queues
    if settings.mode == "agents":
        agent = str(snapshot.get("agent") or "")
        return bool(agent) and (
            agent in settings.agents or (agent_username or "") in settings.agents
        )
    return False


def relative_path(call_id: str, started: dt.datetime, fmt: str, n: int = 1) -> PurePosixPath:
    """<yyyy>/<mm>/<dd>/<call id>[-n].<format> (UTC date): unique per call and start."""
    safe = _UNSAFE.sub("_", call_id)[:80] or "call"
    suffix = "" if n == 1 else f"-{n}"
    day = started.astimezone(dt.UTC)
    return PurePosixPath(f"{day:%Y/%m/%d}/{safe}{suffix}.{fmt}")


def host_path(settings: RecordingSettings, relative: str | PurePosixPath) -> Path:
    return Path(settings.root) / str(relative)


def asterisk_path(settings: RecordingSettings, relative: str | PurePosixPath) -> str:
    """The file name given to MixMonitor, without the extension (MixMonitor adds it
    from the format it picks by the name: we pass the full name with the extension)."""
    root = settings.asterisk_root or str(Path(settings.root).resolve())
    return str(PurePosixPath(root) / str(relative))


def pick_channel(
    channels: Sequence[ChannelInfo], call_id: str, agent: str | None
) -> ChannelInfo | None:
    """The caller's channel of the call, bridged with the agent: recording it (not the
    agent's) keeps one file across transfers to other agents. None while the bridge is
    not up yet."""
    legs = [c for c in channels if c.linkedid == call_id and c.bridge_id]
    agent_legs = [c for c in legs if agent and extension_of(c.channel) == agent]
    bridges = {c.bridge_id for c in agent_legs}
    # The inter-node trunk's leg is the agent's side of a call to another node.
    callers = [
        c
        for c in legs
        if c not in agent_legs
        and not c.channel.startswith(FOREIGN_CHANNEL_PREFIX)
        and (not bridges or c.bridge_id in bridges)
    ]
    if not callers:
        return None
    callers.sort(key=lambda c: (c.uniqueid != call_id, c.uniqueid))
    return callers[0]
