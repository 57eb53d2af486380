"""The SMS gateway (integrations/sms.py) against a local HTTP gateway on 127.0.0.1 on a
controlled clock, SQLite and PostgreSQL: a Chinese text arrives signed and intact, a 500
is retried at its back-off time, a 400 fails at once with the reason, a gateway that is
down or silent is retried until max_attempts and then alerts supervisors once, and
without a gateway configured messages wait."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from db.models.campaigns import SmsMessage, SmsState
from devtools.services.net import free_port
from hotline.services import Services
from integrations.sms import SmsGateway
from integrations.sms_outbox import queue_sms, sms_queued
from integrations.sms_port import HttpSmsSender
from kernel import topics
from kernel.bus.port import Subscription
from kernel.clock import FakeClock
from tests.integration.integrations.sms_support import (
    ENVIRON,
    SECRET,
    SmsReceiver,
    bodies,
    serve,
    sms_env,
)
from tests.integration.tickets.support import START, add_customer, services_for
from tests.support import eventually

pytestmark = pytest.mark.integration
TEXT = "王芳您好：您户号 880012 欠费 123.45 元，请于 11 月 30 日前缴清，以免停气。【燃气热线】"


def fake(services: Services) -> FakeClock:
    assert isinstance(services.clock, FakeClock)
    return services.clock


async def queue(services: Services, text: str = TEXT, number: str = "13800138000") -> int:
    async with services.sessions() as s:
        sms_id = await queue_sms(
            s, number=number, text=text, reason="campaign", now=services.clock.now()
        )
        await s.commit()
    await services.bus.publish(topics.SMS, sms_queued(sms_id))
    return sms_id


async def row(services: Services, sms_id: int) -> SmsMessage:
    async with services.sessions() as s:
        found = await s.get(SmsMessage, sms_id)
        assert found is not None
        return found


def direct(services: Services, url: str, timeout: float = 5.0) -> SmsGateway:
    """A gateway whose rounds the test drives (send_due) on its FakeClock."""
    sender = HttpSmsSender(url, SECRET, clock=services.clock, timeout=timeout)
    return SmsGateway(services, sender=sender)


@pytest.fixture
async def receiver() -> AsyncIterator[SmsReceiver]:
    async for r in serve(SmsReceiver(FakeClock(START))):
        yield r


@pytest.fixture
async def services(db_url: str, receiver: SmsReceiver) -> AsyncIterator[Services]:
    env = sms_env(receiver.url, backoff_seconds="5", max_attempts="3")
    async with services_for(db_url, clock=receiver.clock, env=env) as s:
        yield s


async def alerts_so_far(sub: Subscription) -> list[dict[str, Any]]:
    found = []
    while True:
        try:
            found.append((await sub.get(timeout=0.05)).data)
        except TimeoutError:
            return found


async def test_given_a_running_gateway_when_a_chinese_text_is_queued_then_it_arrives_signed_and_intact(
    services: Services, receiver: SmsReceiver
) -> None:
    gateway = SmsGateway(services, environ=ENVIRON)
    await gateway.start()
    try:
        customer = await add_customer(services, "880012", "王芳", ["13800138000"])
        sms_id = await queue(services)  # after start: only sms.queued wakes the gateway
        await eventually(lambda: gateway.sent == 1, timeout=10, what="the text sent")
    finally:
        await gateway.stop()
    assert receiver.bad_signatures == 0
    (request,) = receiver.requests
    assert request["body"] == {"id": sms_id, "to": "13800138000", "text": TEXT, "sender": "95777"}
    assert TEXT.encode("utf-8") in request["raw"]
    assert request["key"] == f"sms-{sms_id}"
    sent = await row(services, sms_id)
    assert (sent.state, sent.attempts, sent.gateway_id, sent.last_error) == (
        SmsState.SENT,
        1,
        "gw-1",
        None,
    )
    assert sent.sent_at == START
    assert sent.text == TEXT
    assert customer  # the customer exists; campaign texts carry its id when they know it


async def test_given_a_500_then_a_200_then_the_text_is_sent_by_the_retry_at_its_backoff_time(
    services: Services, receiver: SmsReceiver
) -> None:
    receiver.script = [500]
    gateway = direct(services, receiver.url)
    sms_id = await queue(services)
    assert await gateway.send_due() == 1
    first = await row(services, sms_id)
    assert (first.state, first.attempts) == (SmsState.PENDING, 1)
    assert (first.last_error or "").startswith("HTTP 500: 网关繁忙")
    assert first.next_attempt_at == START + dt.timedelta(seconds=5)
    assert await gateway.next_due() == START + dt.timedelta(seconds=5)

    fake(services).advance(4.9)
    assert await gateway.send_due() == 0  # not yet due
    fake(services).advance(0.1)
    assert await gateway.send_due() == 1
    await gateway.stop()

    done = await row(services, sms_id)
    assert (done.state, done.attempts, done.gateway_id) == (SmsState.SENT, 2, "gw-2")
    assert done.sent_at == START + dt.timedelta(seconds=5)
    assert [r["at"] for r in receiver.requests] == [START, START + dt.timedelta(seconds=5)]
    assert {r["key"] for r in receiver.requests} == {f"sms-{sms_id}"}  # one idempotency key
    assert await gateway.next_due() is None


async def test_given_a_400_then_the_text_fails_at_once_with_the_reason_and_one_alert(
    services: Services, receiver: SmsReceiver
) -> None:
    receiver.script = [400]
    alerts = await services.bus.subscribe(topics.ALERT)
    gateway = direct(services, receiver.url)
    sms_id = await queue(services, number="10000")
    assert await gateway.send_due() == 1
    fake(services).advance(3600)
    assert await gateway.send_due() == 0  # never tried again
    await gateway.stop()
    failed = await row(services, sms_id)
    assert (failed.state, failed.attempts, failed.next_attempt_at) == (SmsState.FAILED, 1, None)
    assert failed.last_error == "HTTP 400: 号码无效"
    (alert,) = await alerts_so_far(alerts)
    await alerts.close()
    assert alert["type"] == "sms.failed"
    assert alert["sms_id"] == sms_id
    assert alert["number"] == "10000"
    assert alert["notify"] == {"roles": ["supervisor", "admin"]}
    assert "号码无效" in alert["message"]
    assert len(receiver.requests) == 1


async def test_given_a_gateway_that_is_down_then_the_text_is_retried_on_schedule_then_fails_with_one_alert(
    db_url: str,
) -> None:
    clock = FakeClock(START)
    url = f"http://127.0.0.1:{free_port()}/sms"  # nobody listens
    env = sms_env(url, backoff_seconds="5", max_attempts="3")
    async with services_for(db_url, clock=clock, env=env) as services:
        alerts = await services.bus.subscribe(topics.ALERT)
        gateway = direct(services, url)
        sms_id = await queue(services)
        attempts_at = []
        for wait in [0.0, 5.0, 10.0]:  # the schedule: 5 s, then 10 s
            clock.advance(wait - 0.5 if wait else 0)
            if wait:
                assert await gateway.send_due() == 0
                clock.advance(0.5)
            assert await gateway.send_due() == 1
            attempts_at.append(clock.now())
            state = await row(services, sms_id)
            assert "ConnectError" in (state.last_error or "")
        clock.advance(3600)
        assert await gateway.send_due() == 0
        await gateway.stop()
        failed = await row(services, sms_id)
        assert (failed.state, failed.attempts, failed.next_attempt_at) == (
            SmsState.FAILED,
            3,
            None,
        )
        assert attempts_at == [START + dt.timedelta(seconds=s) for s in (0, 5, 15)]
        got = await alerts_so_far(alerts)
        await alerts.close()
        assert [(a["type"], a["sms_id"], a["attempts"]) for a in got] == [("sms.failed", sms_id, 3)]


async def test_given_a_gateway_that_does_not_answer_in_time_then_the_text_waits_for_a_retry(
    services: Services, receiver: SmsReceiver
) -> None:
    receiver.hold = asyncio.Event()
    gateway = direct(services, receiver.url, timeout=0.3)
    sms_id = await queue(services)
    assert await gateway.send_due() == 1
    receiver.hold.set()
    await gateway.stop()
    waiting = await row(services, sms_id)
    assert (waiting.state, waiting.attempts) == (SmsState.PENDING, 1)
    assert "Timeout" in (waiting.last_error or "")
    assert waiting.next_attempt_at == START + dt.timedelta(seconds=5)


async def test_given_no_gateway_configured_then_texts_wait_in_the_outbox_said_once(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with services_for(db_url, env=sms_env(None)) as services:
        gateway = SmsGateway(services, environ=ENVIRON)
        with caplog.at_level(logging.WARNING, logger="integrations.sms"):
            await gateway.start()
            try:
                first = await queue(services)
                await eventually(
                    lambda: (
                        "1 message(s) wait" in caplog.text or "0 message(s) wait" in caplog.text
                    ),
                    what="the idle gateway said so",
                )
                await queue(services, text="第二条")
                assert await gateway.send_due() == 0
                assert await gateway.send_due() == 0
            finally:
                await gateway.stop()
        assert caplog.text.count("no SMS gateway configured") == 1
        async with services.sessions() as s:
            rows = (await s.exec(select(SmsMessage.state))).all()
        assert rows == [SmsState.PENDING, SmsState.PENDING]
        assert (await row(services, first)).attempts == 0


async def test_given_a_url_but_no_secret_in_the_environment_then_texts_wait_unsigned_never(
    db_url: str, receiver: SmsReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    async with services_for(db_url, env=sms_env(receiver.url)) as services:
        gateway = SmsGateway(services, environ={})
        with caplog.at_level(logging.ERROR, logger="integrations.sms"):
            await gateway.start()
            try:
                sms_id = await queue(services)
                assert await gateway.send_due() == 0
            finally:
                await gateway.stop()
        assert "HOTLINE_TEST_SMS_SECRET is not in the environment" in caplog.text
        assert (await row(services, sms_id)).state == SmsState.PENDING
        assert bodies(receiver) == []
