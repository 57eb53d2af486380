"""Must show (issue 4): the IVR scenarios through the Twilio webhooks with correctly signed
requests, on SQLite and PostgreSQL: TwiML at each step, fault tickets in the database and
one call record per call from the CTI-shaped events; unsigned or tampered requests get
403 and change nothing."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel import select
from twilio.request_validator import RequestValidator

from cti.calllog.writer import CALLS, CallLogWriter
from db.models import Ticket, TicketCall
from hotline.http import create_app
from hotline.services import Services
from ivr.replay import CallRecord, RedisReplayStore, ReplayStore
from ivr.twilio.calls import TwilioIvr
from kernel.clock import FakeClock
from tests.harness.http_app import api_client, api_services
from tests.integration.ivr.support import seed_ivr_customers
from tests.ivr_scenarios import SCENARIOS, ZHANG, Scenario
from tests.support import eventually

pytestmark = pytest.mark.integration

TOKEN = "0123456789abcdef0123456789abcdef"
PUBLIC = "https://hotline.example.com/pbx"  # what Twilio calls; the app sees another host
# A Monday at 10:00 in Asia/Shanghai: the center is open (business_hours).
OPEN = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
ENV = {
    "HOTLINE_TWILIO__ENABLED": "true",
    "HOTLINE_TWILIO__AUTH_TOKEN": TOKEN,
    "HOTLINE_TWILIO__PUBLIC_BASE_URL": PUBLIC,
}


@dataclass
class Twilio:
    """Plays Twilio: signed webhook requests, following the TwiML it gets back."""

    client: httpx.AsyncClient
    sid: str
    caller: str

    def form(self, **extra: str) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.caller,
            "To": "+8695777",
            "Direction": "inbound",
            **extra,
        }

    async def post(
        self,
        url: str,
        form: Mapping[str, str],
        *,
        sign: Mapping[str, str] | None = None,
        sign_url: str | None = None,
    ) -> httpx.Response:
        """POST `form` to the public `url`, signed over `sign_url` and `sign` (default: the
        request's own URL and form)."""
        signature = RequestValidator(TOKEN).compute_signature(sign_url or url, dict(sign or form))
        parts = urlsplit(url)
        path = parts.path.removeprefix(urlsplit(PUBLIC).path)
        target = path + (f"?{parts.query}" if parts.query else "")
        return await self.client.post(
            target, data=dict(form), headers={"X-Twilio-Signature": signature}
        )


def twiml(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return ET.fromstring(response.text)


async def walk(tw: Twilio, keys: tuple[str, ...]) -> list[ET.Element]:
    """The call as Twilio runs it: answer each Gather with the next key, "" = let it time
    out (follow the Redirect); no keys left = the caller hangs up."""
    docs = [twiml(await tw.post(f"{PUBLIC}/twilio/voice", tw.form(CallStatus="ringing")))]
    left = list(keys)
    while (gather := docs[-1].find("Gather")) is not None and left:
        key = left.pop(0)
        if key:
            docs.append(twiml(await tw.post(gather.attrib["action"], tw.form(Digits=key))))
        else:
            redirect = docs[-1].find("Redirect")
            assert redirect is not None
            assert redirect.text
            docs.append(twiml(await tw.post(redirect.text, tw.form())))
    return docs


@dataclass
class Stack:
    services: Services
    client: httpx.AsyncClient
    app: FastAPI

    def store(self) -> ReplayStore:
        ivr: TwilioIvr = self.app.state.twilio_ivr
        return ivr.store


@contextlib.asynccontextmanager
async def twilio_stack(db_url: str) -> AsyncIterator[Stack]:
    async with api_services(db_url, clock=FakeClock(OPEN), env=ENV) as services:
        writer = CallLogWriter(services.bus, services.sessions)
        await writer.start()
        app = create_app(services)
        try:
            async with api_client(app) as client:
                yield Stack(services, client, app)
        finally:
            await writer.stop()


async def call_row(services: Services, sid: str) -> dict[str, Any] | None:
    async with services.engine.connect() as conn:
        row = (await conn.execute(sa.select(CALLS).where(CALLS.c.linkedid == sid))).first()
        return dict(row._mapping) if row else None


async def ended_row(services: Services, sid: str) -> dict[str, Any]:
    async def ended() -> bool:
        row = await call_row(services, sid)
        return row is not None and row["disposition"] != "in_progress"

    await eventually(ended, 30, f"the call record of {sid}")
    row = await call_row(services, sid)
    assert row is not None
    return row


DISPOSITIONS = {
    "self_service": "self_service",
    "callback": "callback_requested",
    "queue": "answered",  # Enqueue's action reports the caller bridged to an agent
    None: "abandoned_ivr",
}


@pytest.mark.parametrize("case", SCENARIOS, ids=lambda c: c.name)
async def test_scenario_over_twilio_webhooks(db_url: str, case: Scenario) -> None:
    async with twilio_stack(db_url) as stack:
        services, client = stack.services, stack.client
        ids = await seed_ivr_customers(services.sessions)
        tw = Twilio(client, "CA" + "1" * 32, case.caller)
        docs = await walk(tw, case.keys)
        first, last = docs[0], docs[-1]
        gather = first.find("Gather")
        assert gather is not None
        assert gather.attrib["numDigits"] == "1"
        assert gather.attrib["finishOnKey"] == ""  # "#" is a key (back) in menus
        # Two replies are recorded before the first question: caller-ID lookup, hours.
        assert gather.attrib["action"] == f"{PUBLIC}/twilio/ivr/step?n=2"
        said = first.find("Say")
        assert said is not None
        assert said.attrib["language"] == "zh-CN"
        assert said.text is not None
        assert said.text.startswith("您好")
        if case.outcome == "queue":
            enqueue = last.find("Enqueue")
            assert enqueue is not None
            assert enqueue.text == case.skill
            assert enqueue.attrib["action"] == f"{PUBLIC}/twilio/ivr/queue"
            r = await tw.post(
                enqueue.attrib["action"], tw.form(QueueResult="bridged", QueueTime="7")
            )
            assert r.status_code == 200
        elif case.outcome is not None:
            assert last.find("Hangup") is not None
            assert last.find("Gather") is None
        else:
            assert last.find("Gather") is not None  # hung up on a question
        r = await tw.post(f"{PUBLIC}/twilio/status", tw.form(CallStatus="completed"))
        assert r.status_code == 204
        row = await ended_row(services, tw.sid)
        assert tuple(row["ivr_path"]) == case.path
        assert row["disposition"] == DISPOSITIONS[case.outcome]
        assert row["self_service_outcome"] == case.outcome
        assert row["customer_id"] == (ids[case.customer_id] if case.customer_id else None)
        if case.skill:
            assert (row["skill"], row["priority"]) == (case.skill, case.priority)
        async with services.sessions() as s:
            tickets = list((await s.exec(select(Ticket))).all())
            links = list((await s.exec(select(TicketCall))).all())
        assert [t.priority.value for t in tickets] == (
            [case.ticket_priority] if case.ticket_priority else []
        )
        # The ticket links to this call's one record.
        assert [(x.ticket_id, x.call_id) for x in links] == [(t.id, row["id"]) for t in tickets]
        async with services.engine.connect() as conn:
            count = (await conn.execute(sa.select(sa.func.count()).select_from(CALLS))).scalar()
        assert count == 1


async def test_unsigned_or_tampered_requests_get_403_and_change_nothing(db_url: str) -> None:
    async with twilio_stack(db_url) as stack:
        services, client = stack.services, stack.client
        await seed_ivr_customers(services.sessions)
        tw = Twilio(client, "CA" + "2" * 32, "13800000000")
        voice = f"{PUBLIC}/twilio/voice"
        # No signature; a signature by another token; one over other fields; another URL.
        r = await client.post("/twilio/voice", data=tw.form())
        assert r.status_code == 403
        forged = RequestValidator("f" * 32).compute_signature(voice, tw.form())
        r = await client.post(
            "/twilio/voice", data=tw.form(), headers={"X-Twilio-Signature": forged}
        )
        assert r.status_code == 403
        r = await tw.post(voice, tw.form(From="13912345678"), sign=tw.form())
        assert r.status_code == 403
        signed_for_app_url = RequestValidator(TOKEN).compute_signature(
            "http://hotline.test/twilio/voice", tw.form()
        )
        r = await client.post(
            "/twilio/voice", data=tw.form(), headers={"X-Twilio-Signature": signed_for_app_url}
        )
        assert r.status_code == 403  # signatures are checked against the public URL
        assert await stack.store().load(tw.sid) is None

        # A real call reaches the fault menu; a tampered "gas leak" key is refused.
        docs = await walk(tw, ("2",))
        gather = docs[-1].find("Gather")
        assert gather is not None
        action = gather.attrib["action"]
        before = await stack.store().load(tw.sid)
        assert before is not None
        r = await tw.post(action, tw.form(Digits="1"), sign=tw.form(Digits="3"))
        assert r.status_code == 403
        r = await tw.post(action.replace("n=", "n=9"), tw.form(Digits="1"), sign_url=action)
        assert r.status_code == 403  # signed for another URL (query included)
        after = await stack.store().load(tw.sid)
        assert after == before
        async with services.sessions() as s:
            assert list((await s.exec(select(Ticket))).all()) == []

        # A duplicate of an answered step is not taken twice.
        doc = twiml(await tw.post(action, tw.form(Digits="3")))
        said = [e.text or "" for e in doc.iter("Say")]
        assert any(t.startswith("您的报修已受理") for t in said)  # then the ticket's number
        again = await tw.post(action, tw.form(Digits="3"))
        assert twiml(again).find("Say") is None  # the waiting question only, nothing re-said
        async with services.sessions() as s:
            tickets = list((await s.exec(select(Ticket))).all())
        assert [t.priority.value for t in tickets] == ["normal"]

        r = await tw.post(f"{PUBLIC}/twilio/status", tw.form(CallStatus="completed"))
        assert r.status_code == 204
        row = await ended_row(services, tw.sid)
        assert tuple(row["ivr_path"])[-2:] == ("fault", "fault_after")
        assert row["disposition"] == "abandoned_ivr"
        r = await client.post("/twilio/status", data=tw.form(CallStatus="completed"))
        assert r.status_code == 403


async def test_twilio_disabled_is_404(db_url: str) -> None:
    async with api_services(db_url) as services, api_client(create_app(services)) as client:
        r = await client.post("/twilio/voice", data={"CallSid": "CA1"})
        assert r.status_code == 404


async def test_redis_store_shares_records_between_workers(redis_url: str) -> None:
    one, two = RedisReplayStore(redis_url), RedisReplayStore(redis_url)
    try:
        sid = "CA" + uuid.uuid4().hex
        record = CallRecord(sid, "13912345678", "95777", 1.0, replies=["1", ZHANG, None], seq=4)
        async with one.lock(sid):
            await one.save(record)
        async with two.lock(sid):
            assert await two.load(sid) == record
        ttl = await two._redis.ttl(RedisReplayStore.PREFIX + sid)
        assert 3500 < ttl <= 3600  # expires an hour after the last change
    finally:
        await one.close()
        await two.close()
