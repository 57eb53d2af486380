"""The AMI client against a scripted peer on loopback: ordering, timeouts, watchdog,
reconnect, garbage. (Real Asterisk behaviour: tests/integration/cti/test_cti_*.py.)"""

from __future__ import annotations

import asyncio
import random

import pytest

from cti.ami.client import AmiClient
from cti.ami.errors import AmiNotConnected, AmiTimeout
from cti.ami.frames import Frame
from tests.harness.fake_ami_server import FakeAmi, fake_ami
from tests.support import eventually
from tests.unit.cti.fuzz import fuzz_frames


def _client(server: FakeAmi, events: list[Frame], **kw: float) -> AmiClient:
    return AmiClient(
        host="127.0.0.1",
        port=server.port,
        username="u",
        secret="s",
        on_event=events.append,
        action_timeout=kw.get("action_timeout", 2.0),
        ping_interval=kw.get("ping_interval", 30),
        ping_timeout=kw.get("ping_timeout", 0.3),
        reconnect_min=0.05,
        reconnect_max=0.2,
    )


async def test_given_many_events_in_one_read_then_handler_sees_them_in_order() -> None:
    async with fake_ami() as server:
        events: list[Frame] = []
        client = _client(server, events)
        client.start()
        await client.wait_ready(5)
        blob = b"".join(f"Event: Newchannel\r\nUniqueid: u{i}\r\n\r\n".encode() for i in range(500))
        await server.send(blob)
        await eventually(lambda: len(events) == 500, 5)
        assert [e["Uniqueid"] for e in events] == [f"u{i}" for i in range(500)]
        await client.close()


async def test_list_actions_and_plain_replies_resolve() -> None:
    async with fake_ami() as server:
        client = _client(server, [])
        client.start()
        await client.wait_ready(5)
        listed = await client.send("CoreShowChannels")
        assert listed.events == []
        assert listed.frame["EventList"] == "start"
        # QueueAdd hangs forever in panoramisk 1.4; here it is an ordinary action.
        added = await client.send("QueueAdd", {"Queue": "q", "Interface": "Local/1@x"})
        assert added.frame["Response"] == "Success"
        await client.close()


async def test_given_a_hung_server_then_the_watchdog_reconnects() -> None:
    async with fake_ami() as server:
        client = _client(server, [], ping_interval=0.2, ping_timeout=0.2)
        client.start()
        await client.wait_ready(5)
        server.answer_pings = False
        await eventually(lambda: client.stats.pings_missed >= 1, 5, "a missed ping")
        await eventually(lambda: server.logins >= 2 and client.ready, 5, "a new login")
        server.answer_pings = True
        assert (await client.send("Ping")).frame["Response"] == "Success"
        await client.close()


async def test_given_the_link_drops_then_pending_actions_fail_and_it_comes_back() -> None:
    async with fake_ami() as server:
        client = _client(server, [])
        client.start()
        await client.wait_ready(5)
        server.drop_all()
        with pytest.raises((AmiNotConnected, AmiTimeout)):
            # Sent into a dead link or waiting for one: a typed error, never a hang.
            await client.send("Ping", timeout=0.05)
        await eventually(lambda: server.logins >= 2 and client.ready, 5, "reconnect")
        assert client.stats.disconnects >= 1
        assert (await client.send("Ping")).frame["Response"] == "Success"
        await client.close()


async def test_given_10000_garbled_frames_then_the_link_survives_and_still_works() -> None:
    async with fake_ami() as server:
        events: list[Frame] = []
        client = _client(server, events)
        client.start()
        await client.wait_ready(5)
        blob = b"".join(fuzz_frames(10_000, seed=3)) + b"Event: Marker\r\nUniqueid: end\r\n\r\n"
        rnd = random.Random(5)
        pos = 0
        while pos < len(blob):
            size = rnd.randrange(1, 8192)
            await server.send(blob[pos : pos + size])
            pos += size
        await eventually(lambda: bool(events) and events[-1].get("Uniqueid") == "end", 20)
        assert server.logins == 1  # never had to reconnect
        assert client.stats.handler_errors == 0
        assert (await client.send("Ping")).frame["Response"] == "Success"
        await client.close()


async def test_action_values_with_line_breaks_are_refused() -> None:
    async with fake_ami() as server:
        client = _client(server, [])
        client.start()
        await client.wait_ready(5)
        with pytest.raises(ValueError, match="line break"):
            await client.send("Originate", {"CallerID": "x\r\nAction: Logoff"})
        assert (await client.send("Ping")).frame["Response"] == "Success"
        await client.close()


async def test_send_before_any_connection_times_out_cleanly() -> None:
    client = AmiClient(
        host="127.0.0.1",
        port=1,
        username="u",
        secret="s",
        on_event=lambda f: None,
        reconnect_min=0.05,
        reconnect_max=0.1,
    )
    client.start()
    with pytest.raises(AmiNotConnected):
        await client.send("Ping", timeout=0.3)
    await asyncio.sleep(0)
    await client.close()
