"""An in-memory PbxCommands for unit tests of pure cores (routing, tickets, ...).

It records every command in order and can be told to fail, so tests assert on what a
feature asked the PBX to do without a PBX. Integration tests use the real Asterisk.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cti.commands import (
    ChannelInfo,
    ChannelNotFound,
    Originated,
    OriginatePurpose,
    PbxError,
    PbxUnavailable,
    QueueEntry,
    SpyMode,
)


@dataclass
class FakePbx:
    commands: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    gone_channels: set[str] = field(default_factory=set)
    fail_next: PbxError | None = None
    variables: dict[tuple[str, str], str] = field(default_factory=dict)
    entries: list[QueueEntry] = field(default_factory=list)
    live: list[ChannelInfo] = field(default_factory=list)
    away: bool = False  # the PBX does not answer: every command raises PbxUnavailable
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def _reachable(self) -> None:
        if self.away:
            raise PbxUnavailable("no AMI session (fake PBX away)")

    def _record(self, command: str, channel: str | None = None, **args: Any) -> None:
        self._reachable()
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc
        if channel is not None and channel in self.gone_channels:
            raise ChannelNotFound(f"No such channel: {channel}")
        if channel is not None:
            args["channel"] = channel
        self.commands.append((command, args))

    def names(self) -> list[str]:
        return [name for name, _ in self.commands]

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
        uid = uniqueid or f"{purpose.value}{next(self._ids)}"
        self._record(
            "originate",
            endpoint=endpoint,
            purpose=purpose,
            context=context,
            exten=exten,
            caller_id=caller_id,
            variables=dict(variables or {}),
            uniqueid=uid,
        )
        return Originated(uid, uid + "-2")

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
        uid = f"{purpose.value}{next(self._ids)}"
        self._record("originate_app", endpoint=endpoint, application=application, data=data)
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
        more = {"extra_exten": extra_exten} if extra_exten else {}
        self._record("redirect", channel, context=context, exten=exten, extra=extra_channel, **more)

    async def hangup(self, channel: str, cause: int = 16) -> None:
        self._record("hangup", channel, cause=cause)

    async def play_dtmf(self, channel: str, digits: str) -> None:
        self._record("play_dtmf", channel, digits=digits)

    async def set_var(self, channel: str, name: str, value: str) -> None:
        self._record("set_var", channel, variable=name, value=value)
        self.variables[(channel, name)] = value

    async def get_var(self, channel: str, name: str) -> str:
        self._record("get_var", channel, variable=name)
        return self.variables.get((channel, name), "")

    async def start_recording(self, channel: str, path: str, *, options: str = "b") -> None:
        self._record("start_recording", channel, path=path, options=options)

    async def stop_recording(self, channel: str) -> None:
        self._record("stop_recording", channel)

    async def pause_recording(self, channel: str, paused: bool) -> None:
        self._record("pause_recording", channel, paused=paused)

    async def spy(
        self,
        supervisor_endpoint: str,
        target_channel: str,
        mode: SpyMode,
        caller_id: str | None = None,
    ) -> Originated:
        self._record("spy", target_channel, endpoint=supervisor_endpoint, mode=mode)
        uid = f"{OriginatePurpose.SPY.value}{next(self._ids)}"
        return Originated(uid, uid + "-2")

    async def queue_add(
        self,
        queue: str,
        interface: str,
        *,
        member_name: str = "",
        penalty: int = 0,
        paused: bool = False,
    ) -> None:
        self._record("queue_add", queue=queue, interface=interface, paused=paused)

    async def queue_remove(self, queue: str, interface: str) -> None:
        self._record("queue_remove", queue=queue, interface=interface)

    async def queue_pause(
        self, interface: str, paused: bool, *, queue: str | None = None, reason: str = ""
    ) -> None:
        self._record("queue_pause", interface=interface, paused=paused, queue=queue)

    async def queue_entries(self, queue: str | None = None) -> list[QueueEntry]:
        self._reachable()
        return [e for e in self.entries if queue is None or e.queue == queue]

    async def channels(self) -> list[ChannelInfo]:
        self._reachable()
        return list(self.live)

    async def user_event(self, name: str, headers: Mapping[str, str]) -> None:
        self._record("user_event", event=name, headers=dict(headers))
