"""IvrFastAgiServer against a scripted Asterisk: the FastAGI conversation of every IVR
scenario (tests/ivr_scenarios.py), hangups, barge-in, garbage and silence on the socket.

The peer answers like res_agi does: GET DATA `result=<keys>` / `result= (timeout)` /
`result=-1` after a hangup, then `511` for anything a dead channel refuses.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from db.engine import async_session_factory, make_async_engine
from hotline.services import Services
from ivr.driver import CallContext
from ivr.fastagi import IvrFastAgiServer
from ivr.handover import user_event_value
from ivr.script import Answer, Query, QueryKind, TicketInfo
from kernel.bus.memory import MemoryBus
from kernel.config import load_settings
from tests.ivr_scenarios import LI, SCENARIOS, ZHANG, ZHANG_PHONE, Scenario

DEAD = "511 Command Not Permitted on a dead channel or intercepted channel"


@dataclass
class FakeDirectory:
    tickets: list[dict[str, str]] = field(default_factory=list)
    down: bool = False

    async def answer(self, q: Query, call: CallContext) -> Answer:
        if self.down and q.kind is QueryKind.CUSTOMER_BY_PHONE:
            await asyncio.sleep(30)  # the database hangs
        if q.kind is QueryKind.CUSTOMER_BY_PHONE:
            return ZHANG if q.arg("number") == ZHANG_PHONE else None
        if q.kind is QueryKind.CUSTOMER_BY_ACCOUNT:
            return {c.account_number: c for c in (ZHANG, LI)}.get(q.arg("account"))
        if q.kind is QueryKind.NOTICES:
            return ()
        if q.kind is QueryKind.FAULT_TICKET:
            self.tickets.append({**dict(q.args), "linkedid": call.call_id})
            return TicketInfo(id=len(self.tickets), number=f"GD20261123-000{len(self.tickets)}")
        return True  # IS_OPEN: a Monday morning


@dataclass
class Peer:
    """One call as Asterisk would run it: the keys answer the questions in order."""

    keys: list[str]
    caller: str = ZHANG_PHONE
    script: str = "ivr"
    commands: list[str] = field(default_factory=list)
    hung_up_at: int | None = None  # index in `commands` of the first command after hangup
    stream_keys: dict[int, str] = field(default_factory=dict)  # nth STREAM FILE -> key
    digit_keys: list[str] = field(default_factory=list)  # WAIT FOR DIGIT answers
    listening: float = 0.0  # seconds before GET DATA answers (a caller thinking)

    def reply(self, line: str) -> str:
        if self.hung_up_at is not None:
            return DEAD
        verb = line.split(" ", 2)
        if line.startswith("GET DATA"):
            if not self.keys:
                self.hung_up_at = len(self.commands)
                return "200 result=-1"
            key = self.keys.pop(0)
            return f"200 result={key}" if key else "200 result= (timeout)"
        if line.startswith("STREAM FILE"):
            n = sum(c.startswith("STREAM FILE") for c in self.commands) - 1  # this one too
            pressed = self.stream_keys.get(n)
            return f"200 result={ord(pressed)} endpos=100" if pressed else "200 result=0 endpos=100"
        if line.startswith("WAIT FOR DIGIT"):
            pressed = self.digit_keys.pop(0) if self.digit_keys else ""
            return f"200 result={ord(pressed) if pressed else 0}"
        if line.startswith("GET FULL VARIABLE"):
            return "200 result=1 (1700000000.42|/srv/sounds)"
        if verb[0] in ("EXEC", "SAY", "CHANNEL"):
            return "200 result=0"
        return "200 result=1"

    def user_events(self, name: str) -> list[dict[str, str]]:
        found = []
        for c in self.commands:
            m = re.fullmatch(r'EXEC UserEvent "(\w+),(.*)"', c)
            if m and m.group(1) == name:
                found.append(dict(kv.split(": ", 1) for kv in m.group(2).split(",")))
        return found

    def variables(self) -> dict[str, str]:
        found = {}
        for c in self.commands:
            m = re.fullmatch(r'SET VARIABLE (\S+) "(.*)"', c)
            if m:
                found[m.group(1)] = m.group(2)
            m = re.fullmatch(r'EXEC MSet "(.*)"', c)
            if m:
                found.update(pair.partition("=")[::2] for pair in m.group(1).split(","))
        return found


async def run_peer(port: int, peer: Peer, timeout: float = 20) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    env = {
        "agi_network": "yes",
        "agi_network_script": peer.script,
        "agi_channel": "Local/95777@hotline-inbound-00000001;2",
        "agi_uniqueid": "1700000000.43",
        "agi_callerid": peer.caller,
        "agi_arg_1": "95777",
    }
    writer.write("".join(f"{k}: {v}\n" for k, v in env.items()).encode() + b"\n")
    async with asyncio.timeout(timeout):
        while line := await reader.readline():
            text = line.decode("utf-8").rstrip("\n")
            peer.commands.append(text)
            if text.startswith("GET DATA") and peer.listening:
                await asyncio.sleep(peer.listening)
            writer.write(peer.reply(text).encode() + b"\n")
    writer.close()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[IvrFastAgiServer, FakeDirectory, int]]:
    from devtools.services.net import free_port

    port = free_port()
    settings = load_settings(
        "config.yaml",
        env={
            "HOTLINE_PBX__FASTAGI__PORT": str(port),
            "HOTLINE_DATABASE__URL": f"sqlite:///{tmp_path}/unused.db",
            "HOTLINE_IVR__SOUNDS_DIR": str(tmp_path / "sounds"),
        },
    )
    engine = make_async_engine(settings.database.url)
    services = Services(settings, MemoryBus(), engine, async_session_factory(engine))
    srv = IvrFastAgiServer(services, command_timeout=2)
    directory = FakeDirectory()
    srv.directory = directory
    await srv.start()
    try:
        yield srv, directory, port
    finally:
        await srv.stop()
        await engine.dispose()


@pytest.mark.parametrize("case", SCENARIOS, ids=lambda c: c.name)
async def test_scenario_over_fastagi(
    server: tuple[IvrFastAgiServer, FakeDirectory, int], case: Scenario
) -> None:
    _srv, directory, port = server
    peer = Peer(list(case.keys), caller=case.caller)
    await run_peer(port, peer)
    steps = [e["Node"] for e in peer.user_events("HotlineIvrStep")]
    assert tuple(steps) == case.path
    results = peer.user_events("HotlineIvrResult")
    if case.outcome is None:  # hung up: the steps so far, nothing after the hangup
        assert results == []
        assert peer.hung_up_at is not None
        assert peer.commands[peer.hung_up_at :] == ["CHANNEL STATUS"]
        return
    [result] = results
    assert result["Outcome"] == case.outcome
    assert result["Path"] == "/".join(case.path)
    variables = peer.variables()
    assert variables["HOTLINE_ACTION"] == ("queue" if case.outcome == "queue" else "hangup")
    assert variables["CHANNEL(language)"] in ("zh", "en")
    if case.skill:
        assert (result["Skill"], result["CallPriority"]) == (case.skill, str(case.priority))
        assert (variables["HOTLINE_SKILL"], variables["HOTLINE_PRIORITY"]) == (
            case.skill,
            str(case.priority),
        )
    assert result["CustomerId"] == str(case.customer_id or "")
    facts = dict(kv.split("=", 1) for kv in result["Facts"].split(";") if kv)
    for k, v in case.facts.items():
        assert facts[k] == v, k  # Chinese facts (燃气泄漏) travel as written
    assert [t["priority"] for t in directory.tickets] == (
        [case.ticket_priority] if case.ticket_priority else []
    )
    assert all(t["linkedid"] == "1700000000.42" for t in directory.tickets)  # CHANNEL(linkedid)
    callbacks = peer.user_events("HotlineCallbackRequest")
    if case.callback_number:
        assert callbacks == [
            {
                "Number": case.callback_number,
                "Queue": f"hold-{case.skill}",
                "CallPriority": str(case.priority),
                "CustomerId": str(case.customer_id),
                "Reason": "IVR",
            }
        ]
    else:
        assert callbacks == []


async def test_account_number_is_one_get_data_and_its_hash_is_consumed(
    server: tuple[IvrFastAgiServer, FakeDirectory, int],
) -> None:
    _srv, _d, port = server
    peer = Peer(["1", "310000654321", "1"], caller="13800000000", digit_keys=["#"])
    await run_peer(port, peer)
    entry = [c for c in peer.commands if c.startswith("GET DATA")][1]
    assert entry == 'GET DATA "beep" 8000 12'
    assert "WAIT FOR DIGIT 1500" in peer.commands  # the # after 12 digits, swallowed
    assert peer.user_events("HotlineIvrResult")[0]["Skill"] == "billing"
    assert peer.variables()["CHANNEL(language)"] == "en"  # Ms Li's language from then on


async def test_a_key_right_after_a_full_account_number_answers_the_next_question(
    server: tuple[IvrFastAgiServer, FakeDirectory, int],
) -> None:
    _srv, _d, port = server
    peer = Peer(["1", "310000654321"], caller="13800000000", digit_keys=["1"])
    await run_peer(port, peer)
    assert [c for c in peer.commands if c.startswith("GET DATA")] == [
        'GET DATA "beep" 5000 1',
        'GET DATA "beep" 8000 12',
    ]
    assert peer.user_events("HotlineIvrResult")[0]["Skill"] == "billing"


async def test_a_key_during_a_prompt_answers_the_question(
    server: tuple[IvrFastAgiServer, FakeDirectory, int],
) -> None:
    _srv, _d, port = server
    # "welcome" is the first STREAM FILE: the caller presses 2 (fault) during it, then 1.
    peer = Peer(["1"], caller="13800000000", stream_keys={0: "2"})
    await run_peer(port, peer)
    steps = [e["Node"] for e in peer.user_events("HotlineIvrStep")]
    assert steps == ["start", "hours", "greet", "main", "fault"], peer.commands
    # The main menu asked nothing more: its answer came during the welcome.
    assert [c for c in peer.commands if c.startswith("GET DATA")] == ['GET DATA "beep" 5000 1']


async def test_prompts_rendered_for_the_language_are_played_from_asterisks_folder(
    server: tuple[IvrFastAgiServer, FakeDirectory, int],
) -> None:
    srv, _d, port = server
    sounds = Path(srv.services.settings.ivr.sounds_dir)
    await asyncio.to_thread((sounds / "zh").mkdir, parents=True)
    for name in ("welcome", "main_menu"):
        await asyncio.to_thread((sounds / "zh" / f"{name}.wav").write_bytes, b"RIFF")
    peer = Peer(["0"])
    await run_peer(port, peer)
    assert 'STREAM FILE "/srv/sounds/zh/welcome" "0123456789*#"' in peer.commands
    assert 'GET DATA "/srv/sounds/zh/main_menu" 5000 1' in peer.commands


async def test_slow_database_sends_the_caller_to_an_agent(
    server: tuple[IvrFastAgiServer, FakeDirectory, int],
) -> None:
    _srv, directory, port = server
    directory.down = True
    peer = Peer([])
    await run_peer(port, peer, timeout=30)
    [result] = peer.user_events("HotlineIvrResult")
    assert (result["Skill"], result["CallPriority"]) == ("general", "0")
    assert "lookup_failed=customer_by_phone" in result["Facts"]


@pytest.mark.parametrize(
    "garbage",
    [
        b"",  # connects and closes
        b"agi_network_script: ivr\n",  # closes before the end of the environment
        b"\xff\xfe\x00garbage\n\n",  # not UTF-8, no route
        b"agi_network_script: nowhere\n\n",  # unknown route
        b"agi_network_script: ivr\nagi_callerid: 139\n\nNOT AN AGI REPLY\n",
        b"agi_network_script: ivr\n\n200 result=1 (x)\n" + b"x" * 200_000 + b"\n",
    ],
)
async def test_garbage_on_the_socket_never_stops_the_server(
    server: tuple[IvrFastAgiServer, FakeDirectory, int], garbage: bytes
) -> None:
    _srv, _d, port = server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(garbage)
    if garbage:
        writer.write_eof()
    async with asyncio.timeout(10):
        with contextlib.suppress(ConnectionResetError):  # closed with our bytes unread
            await reader.read()  # the server closes its side
    writer.close()
    peer = Peer(["0"])  # the next caller is served as usual
    await run_peer(port, peer)
    assert peer.user_events("HotlineIvrResult")[0]["Skill"] == "general"


async def test_asterisk_that_stops_answering_ends_the_session(
    server: tuple[IvrFastAgiServer, FakeDirectory, int],
) -> None:
    _srv, _d, port = server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"agi_network_script: ivr\nagi_callerid: 139\n\n")
    async with asyncio.timeout(10):  # command_timeout=2: then the server hangs up on us
        first = await reader.readline()
        assert first.startswith(b"GET FULL VARIABLE")
        assert await reader.read() == b""
    writer.close()


async def test_survey_routes_get_the_session_and_arguments(
    server: tuple[IvrFastAgiServer, FakeDirectory, int],
) -> None:
    srv, _d, port = server
    seen: list[Any] = []

    class Surveys:
        async def handle_followup(self, agi: Any, *args: str) -> None:
            reply = await agi.command("GET FULL VARIABLE ${HOTLINE_FOLLOWUP_ID}")
            seen.append((agi.env["agi_network_script"], args, reply.data))

        async def handle_post_call(self, agi: Any, *args: str) -> None:
            # A question outlasts the 2 s command timeout: media commands may take long.
            reply = await agi.command('GET DATA "beep" 5000 1')
            seen.append((agi.env["agi_network_script"], args, reply.result))

    srv.services.features.surveys = Surveys()  # type: ignore[assignment]
    await run_peer(port, Peer([], script="followup"))
    await run_peer(port, Peer(["5"], script="survey", listening=2.5))
    assert seen == [
        ("followup", ("95777",), "1700000000.42|/srv/sounds"),
        ("survey", ("95777",), "5"),
    ]


def test_user_event_values_keep_chinese_and_lose_separators() -> None:
    assert user_event_value('燃气泄漏, 李(女士)\n"x"\\') == "燃气泄漏  李（女士） x"


async def test_stop_cuts_a_caller_waiting_in_the_menu(
    server: tuple[IvrFastAgiServer, FakeDirectory, int],
) -> None:
    srv, _d, port = server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"agi_network_script: ivr\nagi_callerid: 139\n\n")
    await reader.readline()  # the server waits for our answer now
    async with asyncio.timeout(10):
        await srv.stop(grace=0.2)
        assert await reader.read() == b""
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
