"""The PBX command port: what the rest of Hotline may ask Asterisk to do.

Typed operations with typed failures; features depend on the `PbxCommands` protocol,
never on AMI frames. `AmiPbxCommands` carries them out over the AMI link; the fake in
cti/fake_pbx.py records them for unit tests of pure cores.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from cti.ami.client import AmiClient
from cti.ami.errors import AmiActionFailed, AmiError, AmiNotConnected, AmiTimeout
from cti.ami.frames import Frame
from kernel.config.pbx import DEFAULT_NODE


class PbxError(Exception):
    """A PBX command did not happen."""


class PbxUnavailable(PbxError):
    """No link to the PBX (down, or reconnecting past the command's timeout)."""


class ChannelNotFound(PbxError):
    """The channel is gone (the caller hung up in the meantime, usually)."""


class PbxRejected(PbxError):
    """The PBX refused the command; `reason` is its message."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class OriginatePurpose(StrEnum):
    """Becomes the Uniqueid prefix (see cti.events.ORIGINATE_PREFIXES)."""

    CALLBACK = "hlcb-"
    FOLLOW_UP = "hlfu-"
    CAMPAIGN = "hlcp-"  # an outbound campaign's call (campaigns/engine.py)
    OUTBOUND = "hlob-"
    SPY = "hlsp-"
    CONFERENCE = "hlcf-"  # a third person joining a call's conference (not a call itself)


class SpyMode(StrEnum):
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"


# ChanSpy options: q quiet (no beep/name), E exit when the spied channel hangs up,
# w whisper to the agent only, B barge (talk to both). See app_chanspy.
SPY_OPTIONS: dict[SpyMode, str] = {
    SpyMode.LISTEN: "qE",
    SpyMode.WHISPER: "qEw",
    SpyMode.BARGE: "qEB",
}


@dataclass(frozen=True)
class Originated:
    uniqueid: str  # pre-assigned, so a ticket or callback row can point at it first
    other_uniqueid: str


@dataclass(frozen=True)
class QueueEntry:
    queue: str
    uniqueid: str
    channel: str
    position: int
    wait_seconds: int
    priority: int = 0
    node: str = DEFAULT_NODE  # the Asterisk it waits on (pbx.nodes)


@dataclass(frozen=True)
class ChannelInfo:
    uniqueid: str
    linkedid: str
    channel: str
    context: str
    exten: str
    state: str
    application: str
    bridge_id: str
    duration: str
    caller_number: str = ""
    raw: Mapping[str, str] = field(default_factory=dict)
    node: str = DEFAULT_NODE  # the Asterisk that has it (pbx.nodes)


class PbxCommands(Protocol):
    async def originate(
        self,
        endpoint: str,
        *,
        purpose: OriginatePurpose,
        context: str,
        exten: str = "s",
        priority: int = 1,
        caller_id: str | None = None,
        variables: Mapping[str, str] | None = None,
        timeout_seconds: int = 30,
        uniqueid: str | None = None,
    ) -> Originated: ...

    async def originate_app(
        self,
        endpoint: str,
        *,
        purpose: OriginatePurpose,
        application: str,
        data: str,
        caller_id: str | None = None,
        timeout_seconds: int = 30,
    ) -> Originated: ...

    async def redirect(
        self,
        channel: str,
        *,
        context: str,
        exten: str,
        priority: int = 1,
        extra_channel: str | None = None,
        extra_exten: str | None = None,
    ) -> None: ...

    async def hangup(self, channel: str, cause: int = 16) -> None: ...

    async def play_dtmf(self, channel: str, digits: str) -> None: ...

    async def set_var(self, channel: str, name: str, value: str) -> None: ...

    async def get_var(self, channel: str, name: str) -> str: ...

    async def start_recording(self, channel: str, path: str, *, options: str = "b") -> None: ...

    async def stop_recording(self, channel: str) -> None: ...

    async def pause_recording(self, channel: str, paused: bool) -> None: ...

    async def spy(
        self,
        supervisor_endpoint: str,
        target_channel: str,
        mode: SpyMode,
        caller_id: str | None = None,
    ) -> Originated: ...

    async def queue_add(
        self,
        queue: str,
        interface: str,
        *,
        member_name: str = "",
        penalty: int = 0,
        paused: bool = False,
    ) -> None: ...

    async def queue_remove(self, queue: str, interface: str) -> None: ...

    async def queue_pause(
        self, interface: str, paused: bool, *, queue: str | None = None, reason: str = ""
    ) -> None: ...

    async def queue_entries(self, queue: str | None = None) -> list[QueueEntry]: ...

    async def channels(self) -> list[ChannelInfo]: ...

    async def user_event(self, name: str, headers: Mapping[str, str]) -> None: ...


def _new_id(purpose: OriginatePurpose) -> str:
    return f"{purpose.value}{uuid.uuid4().hex[:20]}"


class AmiPbxCommands:
    """PbxCommands over the AMI link. Every action has the client's timeout."""

    def __init__(self, client: AmiClient, node: str = DEFAULT_NODE) -> None:
        self._ami = client
        self.node = node

    @property
    def ready(self) -> bool:
        return self._ami.ready

    async def _send(self, action: str, headers: dict[str, object]) -> Frame:
        try:
            return (await self._ami.send(action, headers)).frame
        except AmiActionFailed as exc:
            msg = exc.message
            low = msg.lower()
            # "…channel not up" is Asterisk's answer for a channel already hanging up
            # (ast_check_hangup in manager.c's Redirect): gone, like "No such channel".
            # Taken as a refusal, the router offered that caller to agent after agent.
            if "no such channel" in low or (
                "channel" in low
                and ("not found" in low or "does not exist" in low or "not up" in low)
            ):
                raise ChannelNotFound(msg) from exc
            raise PbxRejected(msg or f"{action} refused") from exc
        except (AmiNotConnected, AmiTimeout) as exc:
            raise PbxUnavailable(str(exc)) from exc
        except AmiError as exc:
            raise PbxError(str(exc)) from exc

    async def _send_list(self, action: str, headers: dict[str, object]) -> list[Frame]:
        try:
            return (await self._ami.send(action, headers)).events
        except AmiActionFailed as exc:
            raise PbxRejected(exc.message) from exc
        except (AmiNotConnected, AmiTimeout) as exc:
            raise PbxUnavailable(str(exc)) from exc

    async def originate(
        self,
        endpoint: str,
        *,
        purpose: OriginatePurpose,
        context: str,
        exten: str = "s",
        priority: int = 1,
        caller_id: str | None = None,
        variables: Mapping[str, str] | None = None,
        timeout_seconds: int = 30,
        uniqueid: str | None = None,
    ) -> Originated:
        uid = uniqueid or _new_id(purpose)
        other = uid + "-2"
        await self._send(
            "Originate",
            {
                "Channel": endpoint,
                "Context": context,
                "Exten": exten,
                "Priority": priority,
                "CallerID": caller_id,
                "Timeout": timeout_seconds * 1000,
                # Async must be explicit: panoramisk-era servers choke without it, and a
                # synchronous Originate would block the AMI session for the whole ring time.
                "Async": "true",
                "ChannelId": uid,
                "OtherChannelId": other,
                "Variable": [f"{k}={v}" for k, v in (variables or {}).items()],
            },
        )
        return Originated(uid, other)

    async def originate_app(
        self,
        endpoint: str,
        *,
        purpose: OriginatePurpose,
        application: str,
        data: str,
        caller_id: str | None = None,
        timeout_seconds: int = 30,
    ) -> Originated:
        uid = _new_id(purpose)
        await self._send(
            "Originate",
            {
                "Channel": endpoint,
                "Application": application,
                "Data": data,
                "CallerID": caller_id,
                "Timeout": timeout_seconds * 1000,
                "Async": "true",
                "ChannelId": uid,
                "OtherChannelId": uid + "-2",
            },
        )
        return Originated(uid, uid + "-2")

    async def redirect(
        self,
        channel: str,
        *,
        context: str,
        exten: str,
        priority: int = 1,
        extra_channel: str | None = None,
        extra_exten: str | None = None,
    ) -> None:
        """`extra_channel` moves too, in the same step (both leave their bridge at once),
        to `extra_exten` of the same context (default: `exten`)."""
        headers: dict[str, object] = {
            "Channel": channel,
            "Context": context,
            "Exten": exten,
            "Priority": priority,
        }
        if extra_channel:
            headers.update(
                ExtraChannel=extra_channel,
                ExtraContext=context,
                ExtraExten=extra_exten or exten,
                ExtraPriority=priority,
            )
        await self._send("Redirect", headers)

    async def hangup(self, channel: str, cause: int = 16) -> None:
        await self._send("Hangup", {"Channel": channel, "Cause": cause})

    async def play_dtmf(self, channel: str, digits: str) -> None:
        """Send `digits` to the far end of `channel` (an outside IVR the agent talks to),
        one PlayDTMF per digit, in order."""
        for digit in digits:
            await self._send("PlayDTMF", {"Channel": channel, "Digit": digit, "Duration": 120})

    async def set_var(self, channel: str, name: str, value: str) -> None:
        await self._send("Setvar", {"Channel": channel, "Variable": name, "Value": value})

    async def get_var(self, channel: str, name: str) -> str:
        frame = await self._send("Getvar", {"Channel": channel, "Variable": name})
        return frame.get("Value", "")

    async def start_recording(self, channel: str, path: str, *, options: str = "b") -> None:
        await self._send("MixMonitor", {"Channel": channel, "File": path, "Options": options})

    async def stop_recording(self, channel: str) -> None:
        await self._send("StopMixMonitor", {"Channel": channel})

    async def pause_recording(self, channel: str, paused: bool) -> None:
        # Muting both directions writes silence: the file keeps its timeline (what a QA
        # listener expects) while card numbers read aloud are never stored.
        await self._send(
            "MixMonitorMute",
            {
                "Channel": channel,
                "Direction": "both",
                "State": 1 if paused else 0,
            },
        )

    async def spy(
        self,
        supervisor_endpoint: str,
        target_channel: str,
        mode: SpyMode,
        caller_id: str | None = None,
    ) -> Originated:
        return await self.originate_app(
            supervisor_endpoint,
            purpose=OriginatePurpose.SPY,
            application="ChanSpy",
            data=f"{target_channel},{SPY_OPTIONS[mode]}",
            caller_id=caller_id,
        )

    async def queue_add(
        self,
        queue: str,
        interface: str,
        *,
        member_name: str = "",
        penalty: int = 0,
        paused: bool = False,
    ) -> None:
        await self._send(
            "QueueAdd",
            {
                "Queue": queue,
                "Interface": interface,
                "MemberName": member_name or None,
                "Penalty": penalty,
                "Paused": "true" if paused else "false",
            },
        )

    async def queue_remove(self, queue: str, interface: str) -> None:
        await self._send("QueueRemove", {"Queue": queue, "Interface": interface})

    async def queue_pause(
        self, interface: str, paused: bool, *, queue: str | None = None, reason: str = ""
    ) -> None:
        await self._send(
            "QueuePause",
            {
                "Interface": interface,
                "Queue": queue,
                "Paused": "true" if paused else "false",
                "Reason": reason or None,
            },
        )

    async def queue_entries(self, queue: str | None = None) -> list[QueueEntry]:
        frames = await self._send_list("QueueStatus", {"Queue": queue})
        return [
            QueueEntry(
                f.get("Queue", ""),
                f.get("Uniqueid", ""),
                f.get("Channel", ""),
                _int(f.get("Position")),
                _int(f.get("Wait")),
                _int(f.get("Priority")),
                self.node,
            )
            for f in frames
            if f.get("Event") == "QueueEntry"
        ]

    async def queue_status_frames(self) -> list[Frame]:
        return await self._send_list("QueueStatus", {})

    async def channel_frames(self) -> list[Frame]:
        return await self._send_list("CoreShowChannels", {})

    async def channels(self) -> list[ChannelInfo]:
        return [
            ChannelInfo(
                uniqueid=f.get("Uniqueid", ""),
                linkedid=f.get("Linkedid", ""),
                channel=f.get("Channel", ""),
                context=f.get("Context", ""),
                exten=f.get("Exten") or f.get("Extension", ""),
                state=f.get("ChannelStateDesc", ""),
                application=f.get("Application", ""),
                bridge_id=f.get("BridgeId", ""),
                duration=f.get("Duration", ""),
                caller_number=f.get("CallerIDNum", ""),
                raw=f,
                node=self.node,
            )
            for f in await self.channel_frames()
            if f.get("Event") == "CoreShowChannel"
        ]

    async def user_event(self, name: str, headers: Mapping[str, str]) -> None:
        await self._send("UserEvent", {"UserEvent": name, **headers})


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
