"""The sandbox Asterisk 22 and Hotline's dialplan contract, against the real server.

No FastAGI server runs here, so every call takes the dialplan's "backend away" path:
that is exactly what must never drop a caller. The AMI side is a deliberately small raw
asyncio reader (the product's client is cti/'s).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cti.pbx_config import DEPLOY_DIR
from devtools.services.asterisk import AsteriskInstance, ensure_root, free_udp_port
from devtools.services.asterisk_root import pids_in_root
from devtools.services.net import free_port
from kernel.config import load_settings
from tests.harness.asterisk import start_test_instance

pytestmark = pytest.mark.integration

Event = dict[str, str]


class RawAmi:
    """Login, actions with ActionID, and every event kept in order."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.events: list[Event] = []
        self._pending: dict[str, asyncio.Future[Event]] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, pbx: AsteriskInstance, secret: str | None = None) -> RawAmi:
        reader, writer = await asyncio.open_connection(pbx.ami_host, pbx.ami_port)
        banner = await asyncio.wait_for(reader.readline(), 5)
        assert banner.startswith(b"Asterisk Call Manager/")
        ami = cls(reader, writer)
        reply = await ami.action(
            "Login", Username=pbx.ami_username, Secret=secret or pbx.ami_secret
        )
        if reply.get("Response") != "Success":
            await ami.close()
            raise PermissionError(reply.get("Message", "login refused"))
        return ami

    async def _read(self) -> None:
        buf = b""
        while chunk := await self.reader.read(65536):
            buf += chunk
            while b"\r\n\r\n" in buf:
                raw, buf = buf.split(b"\r\n\r\n", 1)
                msg: Event = {}
                for line in raw.decode("utf-8").split("\r\n"):  # whole message: no split chars
                    key, sep, value = line.partition(": ")
                    if sep:
                        msg.setdefault(key, value)
                future = self._pending.pop(msg.get("ActionID", ""), None)
                if "Event" not in msg and future is not None:
                    future.set_result(msg)
                else:
                    self.events.append(msg)
                    self._changed.set()

    async def action(self, name: str, **headers: str) -> Event:
        action_id = f"t{next(self._ids)}"
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        lines = [f"Action: {name}", f"ActionID: {action_id}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        return await asyncio.wait_for(future, 5)

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 10) -> Event:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for event in self.events[seen:]:
                if predicate(event):
                    return event
            seen = len(self.events)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                names = [e.get("Event") for e in self.events[-30:]]
                raise AssertionError(f"no matching AMI event in {timeout}s; last: {names}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def close(self) -> None:
        self.writer.close()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await self._task


def event(name: str, **headers: str) -> Callable[[Event], bool]:
    return lambda e: e.get("Event") == name and all(e.get(k) == v for k, v in headers.items())


async def call_in(ami: RawAmi, number: str = "95777", **variables: str) -> Event:
    """A Local-channel test caller dials the hotline; returns its queue join event."""
    channel_id = f"caller-{time.monotonic_ns()}"
    headers = {
        "Channel": f"Local/{number}@hotline-inbound",
        "Context": "hotline-test-caller",
        "Exten": "s",
        "Priority": "1",
        "CallerID": '"张三" <13800000001>',
        "ChannelId": channel_id,
        "OtherChannelId": f"{channel_id}-2",
        "Async": "true",
    }
    if variables:
        headers["Variable"] = ",".join(f"{k}={v}" for k, v in variables.items())
    reply = await ami.action("Originate", **headers)
    assert reply["Response"] == "Success", reply
    return await ami.wait_for(event("QueueCallerJoin", Uniqueid=f"{channel_id}-2"))


async def test_login_as_hotline_with_least_privilege(asterisk: AsteriskInstance) -> None:
    ami = await RawAmi.connect(asterisk)
    try:
        booted = await ami.wait_for(event("FullyBooted"), 5)
        assert booted["Status"] == "Fully Booted"
        # No `command` write class: the CLI is not reachable through Hotline's account.
        denied = await ami.action("Command", Command="core show version")
        assert denied["Response"] == "Error"
        assert "Permission denied" in denied.get("Message", "")
        pong = await ami.action("Ping")
        assert pong["Response"] == "Success"
    finally:
        await ami.close()
    with pytest.raises(PermissionError):
        await RawAmi.connect(asterisk, secret="wrong-secret")


def test_names_inside_the_sandbox_never_reach_a_dns_server(asterisk: AsteriskInstance) -> None:
    """Asterisk looks the host's name up for every call leg (RTCP, ast_find_ourip), then
    A.ROOT-SERVERS.NET: inside the root the first answers from /etc/hosts at once, and a
    name that is not there fails at once instead of asking the host's resolver."""
    if not asterisk.root.chrooted:
        pytest.skip("an Asterisk installed on the host uses the host's own resolver")
    host = subprocess.run(
        asterisk.root.command(["getent", "ahostsv4", socket.gethostname()]),
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert host.returncode == 0, host
    assert host.stdout.split()[0] == "127.0.0.1", host
    started = time.monotonic()
    root_server = subprocess.run(
        asterisk.root.command(["getent", "hosts", "A.ROOT-SERVERS.NET"]),
        capture_output=True,
        timeout=10,
    )
    assert root_server.returncode == 2  # not found, without asking anyone
    assert time.monotonic() - started < 1.0


async def test_caller_waits_in_holding_queue_when_backend_is_away(
    asterisk: AsteriskInstance,
) -> None:
    ami = await RawAmi.connect(asterisk)
    try:
        joined = await call_in(ami)
        # The IVR (FastAGI) was unreachable: default queue, and the bridge is told so.
        assert joined["Queue"] == "hold-general"
        assert joined["CallerIDName"] == "张三"
        linkedid = joined["Linkedid"]
        failed = await ami.wait_for(event("UserEvent", UserEvent="HotlineIvrFailed"))
        assert failed["Queue"] == "hold-general"
        assert failed["Linkedid"] == linkedid
        news = [e for e in ami.events if e.get("Event") == "Newchannel"]
        legs = [e for e in news if e["Linkedid"] == linkedid]
        assert {e["Channel"].rsplit(";", 1)[-1] for e in legs} == {"1", "2"}
        assert "hold-general" in asterisk.cli("queue show hold-general")
        assert "1 call" in asterisk.cli("queue show hold-general")
        # The caller hangs up: both legs end, every event carries the same Linkedid.
        caller_leg = next(e["Channel"] for e in legs if e["Channel"].endswith(";1"))
        await ami.action("Hangup", Channel=caller_leg)
        await ami.wait_for(event("QueueCallerAbandon", Linkedid=linkedid))
        for leg in legs:
            await ami.wait_for(event("Hangup", Uniqueid=leg["Uniqueid"]))
        call = [e for e in ami.events if e.get("Linkedid") == linkedid]
        names = [e["Event"] for e in call]
        assert names.index("Newchannel") < names.index("QueueCallerJoin") < names.index("Hangup")
        # manager.conf's advanced event filter drops the callers' Local device states.
        assert not [
            e
            for e in ami.events
            if e.get("Event") == "DeviceStateChange" and "hotline-inbound" in e.get("Device", "")
        ]
    finally:
        await ami.close()


async def test_ivr_result_puts_caller_in_its_skill_queue(asterisk: AsteriskInstance) -> None:
    """The FastAGI contract: route `ivr`, the dialled number as argument, keys from the
    test caller, HOTLINE_* variables back -> hold-<skill> with QUEUE_PRIO."""
    seen: dict[str, str] = {}
    replies: list[str] = []

    async def ivr(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (line := (await reader.readline()).decode().strip()) != "":
            key, _, value = line.partition(": ")
            seen[key] = value

        async def command(text: str) -> None:
            writer.write(f"{text}\n".encode())
            replies.append((await reader.readline()).decode().strip())

        await command("WAIT FOR DIGIT 5000")  # the test caller presses DTMF=7
        for name, value in (
            ("HOTLINE_ACTION", "queue"),
            ("HOTLINE_SKILL", "billing"),
            ("HOTLINE_PRIORITY", "30"),
            ("HOTLINE_CUSTOMER_ID", "C-1"),
            ("HOTLINE_TIER", "A"),
        ):
            await command(f"SET VARIABLE {name} {value}")
        writer.close()

    server = await asyncio.start_server(ivr, "127.0.0.1", asterisk.fastagi_port)
    ami = await RawAmi.connect(asterisk)
    try:
        joined = await call_in(ami, DTMF="7")
        assert joined["Queue"] == "hold-billing"
        assert seen["agi_network_script"] == "ivr"
        assert seen["agi_arg_1"] == "95777"
        assert seen["agi_callerid"] == "13800000001"
        assert replies[0] == f"200 result={ord('7')}"
        prio = await ami.action("Getvar", Channel=joined["Channel"], Variable="QUEUE_PRIO")
        assert prio["Value"] == "60"  # 2 x HOTLINE_PRIORITY (routing/core/queue_prio.py)
        await ami.action("Hangup", Channel=joined["Channel"])
        await ami.wait_for(event("Hangup", Channel=joined["Channel"]))
        assert not [
            e
            for e in ami.events
            if e.get("UserEvent") == "HotlineIvrFailed" and e.get("Linkedid") == joined["Linkedid"]
        ]
    finally:
        await ami.close()
        server.close()
        await server.wait_closed()


async def test_router_connects_caller_to_local_test_agent(asterisk: AsteriskInstance) -> None:
    ami = await RawAmi.connect(asterisk)
    try:
        joined = await call_in(ami)
        caller = joined["Channel"]
        # What the router does: AMI Redirect of the waiting caller to hotline-connect.
        reply = await ami.action(
            "Redirect", Channel=caller, Context="hotline-connect", Exten="1001", Priority="1"
        )
        assert reply["Response"] == "Success", reply
        await ami.wait_for(event("QueueCallerLeave", Channel=caller))
        begin = await ami.wait_for(event("DialBegin", Channel=caller))
        assert begin["DestChannel"].startswith("Local/1001@hotline-test-agent-")
        end = await ami.wait_for(event("DialEnd", Channel=caller))
        assert end["DialStatus"] == "ANSWER"
        bridged = await ami.wait_for(event("BridgeEnter", Channel=caller))
        await ami.wait_for(
            lambda e: (
                e.get("Event") == "BridgeEnter"
                and e.get("BridgeUniqueid") == bridged["BridgeUniqueid"]
                and e.get("Channel") == begin["DestChannel"]
            )
        )
        assert begin["DestLinkedid"] == joined["Linkedid"]
        await ami.action("Hangup", Channel=caller)
        await ami.wait_for(event("Hangup", Channel=begin["DestChannel"]))
        # Exten `s`: any dial string the router chose, set on the caller's channel first.
        joined = await call_in(ami)
        caller = joined["Channel"]
        agent = "Local/1003@hotline-test-agent"
        await ami.action("Setvar", Channel=caller, Variable="HOTLINE_AGENT_ENDPOINT", Value=agent)
        await ami.action(
            "Redirect", Channel=caller, Context="hotline-connect", Exten="s", Priority="1"
        )
        end = await ami.wait_for(event("DialEnd", Channel=caller))
        assert end["DestChannel"].startswith(agent + "-")
        assert end["DialStatus"] == "ANSWER"
        await ami.action("Hangup", Channel=caller)
        await ami.wait_for(event("Hangup", Channel=end["DestChannel"]))
    finally:
        await ami.close()


async def test_unanswered_offer_returns_caller_to_head_of_queue(
    asterisk: AsteriskInstance,
) -> None:
    ami = await RawAmi.connect(asterisk)
    try:
        # Agent 1002 never answers (per-extension global, as a test would set it).
        await ami.action("Setvar", Variable="HOTLINE_TEST_1002_NO_ANSWER", Value="1")
        first = await call_in(ami)
        joined = await call_in(ami, HOTLINE_PRIORITY="20")
        caller = joined["Channel"]
        await ami.action("Setvar", Channel=caller, Variable="HOTLINE_OFFER_TIMEOUT", Value="1")
        await ami.action(
            "Redirect", Channel=caller, Context="hotline-connect", Exten="1002", Priority="1"
        )
        end = await ami.wait_for(event("DialEnd", Channel=caller))
        assert end["DialStatus"] == "NOANSWER"
        failed = await ami.wait_for(
            event("UserEvent", UserEvent="HotlineOfferFailed", Channel=caller)
        )
        assert failed["Status"] == "NOANSWER"
        rejoined = await ami.wait_for(
            lambda e: e is not joined and event("QueueCallerJoin", Channel=caller)(e)
        )
        assert rejoined["Queue"] == "hold-general"
        assert rejoined["Position"] == "1"
        prio = await ami.action("Getvar", Channel=caller, Variable="QUEUE_PRIO")
        # The IVR was away (priority 0): 2 x 0 + 1, ahead of its own priority only.
        assert prio["Value"] == "1"
        for waiting in (caller, first["Channel"]):
            await ami.action("Hangup", Channel=waiting)
            await ami.wait_for(event("Hangup", Channel=waiting))
    finally:
        await ami.action("Setvar", Variable="HOTLINE_TEST_1002_NO_ANSWER", Value="")
        await ami.close()


async def test_max_wait_leads_to_fallback_and_callback_capture(
    asterisk: AsteriskInstance,
) -> None:
    ami = await RawAmi.connect(asterisk)
    try:
        joined = await call_in(ami, HOTLINE_MAX_WAIT="1")
        fallback = await ami.wait_for(
            event("UserEvent", UserEvent="HotlineFallback", Linkedid=joined["Linkedid"])
        )
        assert fallback["Reason"] == "TIMEOUT"
        request = await ami.wait_for(
            event("UserEvent", UserEvent="HotlineCallbackRequest", Linkedid=joined["Linkedid"]),
            timeout=20,
        )
        assert request["Number"] == "13800000001"
        assert request["Queue"] == "hold-general"
        # Kept in AstDB too, for a backend that was away when it happened.
        stored = await ami.action("DBGet", Family="hotline", Key=f"callback/{joined['Uniqueid']}")
        assert stored["Response"] == "Success", stored
        row = await ami.wait_for(event("DBGetResponse", Key=f"callback/{joined['Uniqueid']}"))
        assert row["Val"].startswith("13800000001,general,0,")
        # (The caller would now hear "we will call you back" and goodbye.)
        await ami.action("Hangup", Channel=joined["Channel"])
        await ami.wait_for(event("Hangup", Channel=joined["Channel"]))
    finally:
        await ami.close()


async def test_sipp_agent_phone_calls_the_hotline(asterisk: AsteriskInstance) -> None:
    """Real SIP: endpoint 1001 authenticates (digest) and its call reaches the queue."""
    scenario = DEPLOY_DIR / "sipp" / "hotline-call.xml"
    ami = await RawAmi.connect(asterisk)
    try:
        sipp = asyncio.create_task(
            asyncio.to_thread(
                asterisk.sipp,
                *("-sf", scenario.name, "-s", "95777", "-set", "agent", "1001"),
                *("-au", "1001", "-ap", asterisk.sip_password, "-m", "1", "-d", "3000"),
                *("-timeout", "30", "-timeout_error"),
                files=[scenario],
            )
        )
        joined = await ami.wait_for(
            lambda e: (
                event("QueueCallerJoin", Queue="hold-general")(e)
                and e["Channel"].startswith("PJSIP/1001-")
            )
        )
        assert joined["CallerIDNum"] == "1001"
        done = await sipp
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        await ami.wait_for(event("Hangup", Channel=joined["Channel"]))
    finally:
        await ami.close()


def test_instance_stops_cleanly_and_restarts_fast_from_cache() -> None:
    started = time.monotonic()
    root = ensure_root()
    assert time.monotonic() - started < 2, "the cached root should be reused, not rebuilt"
    name = f"test-{os.getpid()}-restart"
    for _ in range(2):
        pbx = start_test_instance(name)
        assert pbx.started_seconds < 10
        assert "Asterisk 22" in pbx.cli("core show version")
        # Settings change -> re-render + reload: a new hotline number is dialable.
        assert "95888" not in pbx.cli("dialplan show hotline-inbound")
        more = load_settings(
            DEPLOY_DIR.parents[1] / "config.yaml",
            env={"HOTLINE_CENTER__HOTLINE_NUMBERS": '["95777", "95888"]'},
        )
        pbx.reload(more)
        assert "'95888' =>" in pbx.cli("dialplan show hotline-inbound")
        pid = pbx.pid
        began = time.monotonic()
        pbx.stop()
        assert time.monotonic() - began < 10
        assert not pbx.running
        if root.path is not None:
            assert pid not in pids_in_root(root.path)
        pbx.stop()  # idempotent


def test_sandbox_command_starts_reports_and_stops_an_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from devtools.cli import main

    monkeypatch.chdir(tmp_path)  # var/sandbox/<name>.json is written here
    monkeypatch.setenv("HOTLINE_PBX__AMI__PORT", str(free_port()))
    monkeypatch.setenv("HOTLINE_PBX__FASTAGI__PORT", str(free_port()))
    config = ["--config", str(DEPLOY_DIR.parents[1] / "config.yaml"), "sandbox"]
    name = ["--name", f"test-{os.getpid()}-cli"]
    try:
        assert main([*config, "start", *name, "--sip-port", str(free_udp_port())]) == 0
        state = json.loads((tmp_path / "var" / "sandbox" / f"{name[1]}.json").read_text())
        assert state["env"]["HOTLINE_PBX__AMI__PORT"] == os.environ["HOTLINE_PBX__AMI__PORT"]
        assert main([*config, "status", *name]) == 0
        assert main([*config, "cli", *name, "queue show hold-billing"]) == 0
        assert "hold-billing has 0 calls" in capsys.readouterr().out
    finally:
        assert main([*config, "stop", *name]) == 0
    assert main([*config, "status", *name]) == 3
