"""The SMS port's HTTP adapter (integrations/sms_port.py HttpSmsSender) over httpx's
in-process transport: the body is UTF-8 JSON signed like the ticket webhooks, the
message id is the idempotency key, and the answer becomes an id, a refusal or a retry."""

from __future__ import annotations

import json

import httpx
import pytest

from integrations.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, verify
from integrations.sms_port import (
    IDEMPOTENCY_HEADER,
    HttpSmsSender,
    OutgoingSms,
    SmsRejected,
    SmsUnavailable,
    body_of,
)
from kernel.clock import FakeClock

SECRET = "短信-secret"
URL = "http://sms.test/send"
MESSAGE = OutgoingSms(id=42, to="13800138000", text="您的工单GD-1已处理，谢谢！", sender="95777")


def sender_answering(
    handler: httpx.MockTransport | None = None,
    *,
    status: int = 200,
    reply: str = '{"id": "gw-1"}',
    seen: list[httpx.Request] | None = None,
) -> HttpSmsSender:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, text=reply)

    client = httpx.AsyncClient(transport=handler or httpx.MockTransport(handle))
    return HttpSmsSender(URL, SECRET, clock=FakeClock(1_800_000_000), timeout=2, client=client)


async def test_given_a_message_then_the_request_is_signed_utf8_json_with_its_key() -> None:
    seen: list[httpx.Request] = []
    sender = sender_answering(seen=seen)
    assert await sender.send(MESSAGE) == "gw-1"
    await sender.close()
    (request,) = seen
    body = request.content
    assert "您的工单GD-1已处理".encode() in body  # not \u escapes
    assert json.loads(body) == {
        "id": 42,
        "to": "13800138000",
        "text": "您的工单GD-1已处理，谢谢！",
        "sender": "95777",
    }
    assert body == body_of(MESSAGE)
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    signature = request.headers[SIGNATURE_HEADER]
    assert signature.startswith("t=1800000000,v1=")
    assert verify(SECRET, signature, body, 1_800_000_000)
    assert not verify("other", signature, body, 1_800_000_000)
    assert not verify(SECRET, signature, body + b" ", 1_800_000_000)
    assert request.headers[EVENT_HEADER] == "sms.send"
    assert request.headers[DELIVERY_HEADER] == "sms-42"
    assert request.headers[IDEMPOTENCY_HEADER] == "sms-42"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"id": "gw-1"}', "gw-1"),
        ('{"message_id": 991}', "991"),
        ("{}", None),
        ("OK", None),
        ("[1]", None),
    ],
)
async def test_given_a_2xx_then_the_gateway_id_is_taken_from_the_reply_if_any(
    reply: str, expected: str | None
) -> None:
    sender = sender_answering(reply=reply)
    assert await sender.send(MESSAGE) == expected
    await sender.close()


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_given_a_client_error_then_the_message_is_rejected_with_the_reason(
    status: int,
) -> None:
    sender = sender_answering(status=status, reply="号码无效")
    with pytest.raises(SmsRejected, match=f"HTTP {status}: 号码无效"):
        await sender.send(MESSAGE)
    await sender.close()


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
async def test_given_a_server_error_or_throttle_then_the_gateway_is_unavailable(
    status: int,
) -> None:
    sender = sender_answering(status=status, reply="busy")
    with pytest.raises(SmsUnavailable, match=f"HTTP {status}"):
        await sender.send(MESSAGE)
    await sender.close()


@pytest.mark.parametrize("error", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
async def test_given_no_answer_then_the_gateway_is_unavailable(error: Exception) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    sender = sender_answering(httpx.MockTransport(fail))
    with pytest.raises(SmsUnavailable, match=type(error).__name__):
        await sender.send(MESSAGE)
    await sender.close()
