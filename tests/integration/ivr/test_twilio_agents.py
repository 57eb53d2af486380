"""A caller who came in through Twilio is never offered through Asterisk (which cannot reach
it: the agent would ring for nobody, be counted a no-answer and paused).

- twilio.agent_sip_uri empty: the router leaves Twilio callers to Twilio's queue.
- set: the router picks the agent and Twilio rings that agent's phone (REST, against a
  local fake of Twilio's API, tests/harness/fake_twilio_api.py); Twilio's status callbacks for the
  agent's leg (signed webhooks) drive the router and the call log.

The router runs as `hotline serve` builds it (hotline/wiring.py routing), on the fake PBX:
every command it would send to Asterisk is recorded, and there must be none for a Twilio
caller."""

from __future__ import annotations

import asyncio
import contextlib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from cti.calllog.writer import CallLogWriter
from cti.fake_pbx import FakePbx
from db.models import AgentSkill
from hotline import wiring
from hotline.http import create_app
from hotline.services import Services
from kernel.bus.port import BusMessage
from kernel.clock import FakeClock
from routing.service import RoutingService
from tests.harness.fake_twilio_api import ACCOUNT, FakeTwilioApi
from tests.harness.http_app import add_user, api_client, api_services
from tests.integration.ivr.support import seed_ivr_customers
from tests.integration.ivr.test_ivr_twilio import (
    ENV,
    OPEN,
    PUBLIC,
    Twilio,
    call_row,
    ended_row,
    walk,
)
from tests.ivr_scenarios import ZHANG_PHONE
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["sqlite"])]

AGENT_SIP = "sip:{extension}@agents.example.sip.twilio.com"
LIVE_CHANNEL = "Local/95777@hotline-inbound-00000001;2"


@dataclass
class World:
    services: Services
    clock: FakeClock
    pbx: FakePbx
    router: RoutingService
    api: FakeTwilioApi
    client: httpx.AsyncClient
    agents: dict[str, int]  # extension -> user id
    bus: list[BusMessage]

    def caller(self, n: int) -> Twilio:
        return Twilio(self.client, "CA" + f"{n:x}" * 32, ZHANG_PHONE)

    def offers(self, call_id: str) -> list[dict[str, Any]]:
        return [
            m.data
            for m in self.bus
            if m.topic == "offer" and m.data.get("type") == "offer" and m.data["call_id"] == call_id
        ]

    def asterisk_commands(self) -> list[tuple[str, dict[str, Any]]]:
        """What the router asked Asterisk about channels (globals excepted: the announcer)."""
        return [(n, a) for n, a in self.pbx.commands if a.get("channel")]

    async def leg_status(self, caller: Twilio, agent: str, leg: str, status: str) -> None:
        """Twilio's status callback for the call it placed to `agent` for `caller`."""
        url = f"{PUBLIC}/twilio/agent/status?call={caller.sid}&agent={agent}"
        form = {**caller.form(CallStatus=status), "CallSid": leg, "To": AGENT_SIP}
        r = await caller.post(url, form)
        assert r.status_code == 204, r.text

    async def queue_for_agents(self, caller: Twilio) -> ET.Element:
        """The caller presses 6 (complaints) and is handed to Twilio's queue."""
        docs = await walk(caller, ("6",))
        enqueue = docs[-1].find("Enqueue")
        assert enqueue is not None
        return enqueue


@contextlib.asynccontextmanager
async def world(db_url: str, *, agent_sip_uri: str = "") -> AsyncIterator[World]:
    api = FakeTwilioApi()
    base = await api.start()
    env = {
        **ENV,
        "HOTLINE_TWILIO__ACCOUNT_SID": ACCOUNT,
        "HOTLINE_TWILIO__API_BASE_URL": base,
        "HOTLINE_TWILIO__AGENT_SIP_URI": agent_sip_uri,
    }
    clock = FakeClock(OPEN)
    try:
        async with api_services(db_url, clock=clock, env=env) as services:
            await seed_ivr_customers(services.sessions)
            agents: dict[str, int] = {}
            for ext in ("1001", "1002"):
                user = await add_user(services, f"agent{ext}", extension=ext)
                assert user.id is not None
                agents[ext] = user.id
                async with services.sessions() as session:
                    session.add(AgentSkill(user_id=user.id, skill="complaint", level=8))
                    await session.commit()
            pbx = FakePbx()
            services.pbx = pbx
            writer = CallLogWriter(services.bus, services.sessions)
            await writer.start()
            router = wiring.routing(services)  # as `hotline serve` builds it
            assert isinstance(router, RoutingService)
            bus: list[BusMessage] = []
            sub = await services.bus.subscribe("offer", "call", "agent")

            async def record() -> None:
                with contextlib.suppress(Exception):
                    while True:
                        bus.append(await sub.get())

            recorder = asyncio.create_task(record())
            await router.start()
            try:
                async with api_client(create_app(services)) as client:
                    yield World(services, clock, pbx, router, api, client, agents, bus)
            finally:
                await router.stop()
                recorder.cancel()
                await sub.close()
                await writer.stop()
    finally:
        await api.stop()


async def ready(w: World, *extensions: str) -> None:
    for ext in extensions:
        await w.router.login(w.agents[ext], ready=True)


async def test_given_no_agent_sip_uri_a_twilio_caller_is_left_to_twilio(db_url: str) -> None:
    async with world(db_url) as w:
        await ready(w, "1001")
        caller = w.caller(1)
        enqueue = await w.queue_for_agents(caller)
        assert enqueue.text == "complaint"  # Twilio's queue of the skill, for Twilio agents
        # An Asterisk caller after it: offered at once, so the router has read the Twilio
        # caller's events by then (one ordered subscription).
        await w.services.bus.publish(
            "call",
            {
                "type": "call.queued",
                "call_id": "t-live",
                "queue": "hold-complaint",
                "channel": LIVE_CHANNEL,
                "at": w.clock.timestamp(),
                "call": {"skill": "complaint", "tier": "C", "queued_at": w.clock.timestamp()},
            },
        )
        await eventually(lambda: bool(w.asterisk_commands()), 5, "the Asterisk caller connected")
        assert [o["agent_id"] for o in w.offers("t-live")] == [w.agents["1001"]]
        assert w.offers(caller.sid) == []
        assert [c["call_id"] for c in w.router.waiting_calls()] == []
        assert w.asterisk_commands() == [
            (
                "redirect",
                {
                    "channel": LIVE_CHANNEL,
                    "context": "hotline-connect",
                    "exten": "1001",
                    "extra": None,
                },
            )
        ]
        assert w.api.requests == []
        assert w.router.agent(w.agents["1001"])["no_answers"] == 0


async def test_given_agent_sip_uri_twilio_rings_the_agent_and_the_call_is_logged(
    db_url: str,
) -> None:
    async with world(db_url, agent_sip_uri=AGENT_SIP) as w:
        await ready(w, "1001")
        caller = w.caller(2)
        enqueue = await w.queue_for_agents(caller)
        assert enqueue.text == f"hotline-{caller.sid}"  # a queue of its own
        assert enqueue.attrib["action"] == f"{PUBLIC}/twilio/ivr/queue"

        await eventually(lambda: len(w.api.created()) == 1, 5, "Twilio asked to ring 1001")
        (ring,) = w.api.created()
        assert ring.user == ACCOUNT
        assert ring.path == f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
        assert (ring.one("To"), ring.one("From")) == (
            "sip:1001@agents.example.sip.twilio.com",
            "+8695777",  # the number the caller dialled: one of the account's
        )
        leg_twiml = ET.fromstring(ring.one("Twiml"))
        queue = leg_twiml.find("Dial/Queue")
        assert queue is not None
        assert queue.text == f"hotline-{caller.sid}"  # answered: it takes exactly this caller
        assert ring.one("Timeout") == str(w.services.settings.routing.offer_timeout_seconds)
        status_url = urlsplit(ring.one("StatusCallback"))
        assert f"{status_url.scheme}://{status_url.netloc}{status_url.path}" == (
            f"{PUBLIC}/twilio/agent/status"
        )
        assert parse_qs(status_url.query) == {"call": [caller.sid], "agent": ["1001"]}
        assert ring.form["StatusCallbackEvent"] == ["ringing", "answered", "completed"]
        (offer,) = w.offers(caller.sid)  # the screen-pop went out first
        assert (offer["agent_id"], offer["kind"]) == (w.agents["1001"], "twilio")

        await w.leg_status(caller, "1001", ring.sid, "ringing")
        w.clock.advance(3)
        await w.leg_status(caller, "1001", ring.sid, "in-progress")
        await eventually(
            lambda: w.router.agent(w.agents["1001"])["state"] == "on_call", 5, "1001 talks"
        )
        # Twilio bridged them; 40 s later the agent hangs up: Enqueue's action, then the end.
        r = await caller.post(
            f"{PUBLIC}/twilio/ivr/queue", caller.form(QueueResult="bridged", QueueTime="3")
        )
        assert r.status_code == 200
        w.clock.advance(40)
        await w.leg_status(caller, "1001", ring.sid, "completed")
        r = await caller.post(f"{PUBLIC}/twilio/status", caller.form(CallStatus="completed"))
        assert r.status_code == 204
        await eventually(
            lambda: w.router.agent(w.agents["1001"])["state"] == "wrap_up", 5, "1001 wraps up"
        )
        row = await ended_row(w.services, caller.sid)
        assert (row["disposition"], row["agent_id"], row["agents"]) == (
            "answered",
            w.agents["1001"],
            ["1001"],
        )
        assert (row["offers"], row["no_answers"], row["talk_seconds"]) == (1, 0, 40.0)
        assert w.asterisk_commands() == []  # never offered through Asterisk
        assert w.router.agent(w.agents["1001"])["no_answers"] == 0


async def test_given_the_agent_does_not_answer_the_next_one_is_rung_and_a_hang_up_cancels(
    db_url: str,
) -> None:
    async with world(db_url, agent_sip_uri=AGENT_SIP) as w:
        await ready(w, "1001", "1002")
        caller = w.caller(3)
        await w.queue_for_agents(caller)
        await eventually(lambda: len(w.api.created()) == 1, 5, "Twilio rings a first agent")
        first = w.api.created()[0]
        one = first.one("To").removeprefix("sip:").split("@")[0]
        other = "1002" if one == "1001" else "1001"
        await w.leg_status(caller, one, first.sid, "ringing")
        w.clock.advance(15)
        await w.leg_status(caller, one, first.sid, "no-answer")
        # Not answered: the caller is offered to the other agent, still in its queue.
        await eventually(lambda: len(w.api.created()) == 2, 5, "Twilio rings the other agent")
        second = w.api.created()[1]
        assert second.one("To") == f"sip:{other}@agents.example.sip.twilio.com"
        assert w.router.agent(w.agents[one])["no_answers"] == 1  # its phone did ring out
        await w.leg_status(caller, other, second.sid, "ringing")
        # The caller hangs up while the other agent's phone rings: that leg is cancelled.
        r = await caller.post(f"{PUBLIC}/twilio/status", caller.form(CallStatus="completed"))
        assert r.status_code == 204

        def cancelled() -> list[str]:
            return [u.sid for u in w.api.updated() if u.one("Status") == "canceled"]

        await eventually(lambda: second.sid in cancelled(), 5, "the ringing leg is cancelled")
        # (The first leg may be cancelled too, harmlessly, if its callbacks overtook
        # Twilio's answer to the REST request; nothing else is touched.)
        assert {u.sid for u in w.api.updated()} <= {first.sid, second.sid}
        await eventually(
            lambda: w.router.agent(w.agents[other])["state"] == "available", 5, "released"
        )
        assert w.router.agent(w.agents[other])["no_answers"] == 0
        row = await ended_row(w.services, caller.sid)
        assert (row["offers"], row["no_answers"], row["agent_id"]) == (2, 1, None)
        assert w.asterisk_commands() == []


async def test_given_twilio_api_fails_the_agent_is_not_blamed_and_the_caller_waits(
    db_url: str,
) -> None:
    async with world(db_url, agent_sip_uri=AGENT_SIP) as w:
        w.api.fail_with = 503
        await ready(w, "1001")
        caller = w.caller(4)
        await w.queue_for_agents(caller)
        await eventually(lambda: len(w.api.created()) == 1, 5, "Twilio asked")
        await eventually(
            lambda: w.router.agent(w.agents["1001"])["state"] == "available", 5, "released"
        )
        assert w.router.agent(w.agents["1001"])["no_answers"] == 0
        assert [c["call_id"] for c in w.router.waiting_calls()] == [caller.sid]
        assert w.asterisk_commands() == []
        assert (await call_row(w.services, caller.sid) or {}).get("disposition") == "in_progress"
