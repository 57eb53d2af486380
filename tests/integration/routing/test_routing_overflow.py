"""Per-queue overflow after the last step's timeout, on the real Asterisk: to another
queue (where the right agent answers), and to voicemail with a ticket."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from cti.ami.client import AmiClient
from db.models import Ticket
from devtools.services.asterisk import AsteriskInstance
from kernel.config import Settings
from tests.harness.cti import CtiStack
from tests.integration.routing.stack import queue, routing_stack, with_routing
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["sqlite"])]


def settings(s: Settings) -> Settings:
    return with_routing(
        s,
        [
            # Nobody has complaint >= 9: after 2 s the caller moves to billing.
            queue(
                "complaint",
                [("complaint >= 9", 2)],
                overflow={"action": "queue", "target_queue": "billing"},
                wrap_up_seconds=0,
            ),
            queue("billing", [("billing >= 5", None)], wrap_up_seconds=0),
            queue("business", [("business", 2)], overflow={"action": "voicemail_ticket"}),
        ],
    )


async def test_overflow_to_another_queue_then_voicemail_with_a_ticket(
    cti_stack: CtiStack, asterisk: AsteriskInstance
) -> None:
    frames: list[dict[str, Any]] = []
    observer = AmiClient(
        host=asterisk.ami_host,
        port=asterisk.ami_port,
        username=asterisk.ami_username,
        secret=asterisk.ami_secret,
        on_event=lambda f: frames.append(dict(f)),
        wanted_events={"UserEvent"},
    )
    observer.start()
    await observer.wait_ready(15)
    agents = {"1001": {"billing": 8, "complaint": 3}}
    try:
        async with routing_stack(cti_stack, asterisk, agents, settings=settings) as stack:
            svc, rec = stack.service, stack.recorder
            await svc.login(stack.agents["1001"], ready=True)

            moved = await stack.caller(skill="complaint", tier="C", number="13300000001")
            await eventually(lambda: bool(stack.answered()), 20, "answered after overflow")
            assert stack.answered() == [("1001", moved)]
            queues = [e["queue"] for e in rec.of("call", "call.queued", call_id=moved)]
            assert queues == ["hold-complaint", "hold-billing"]
            (pop,) = rec.of("offer", "offer", call_id=moved)
            assert pop["skill"] == "billing"
            await stack.cti.bridge.commands.hangup(pop["channel"])

            await svc.not_ready(stack.agents["1001"], "break")
            left = await stack.caller(skill="business", tier="B", number="13300000002")

            def voicemail() -> bool:
                return any(
                    f.get("UserEvent") == "HotlineFallback"
                    and f.get("Linkedid") == left
                    and f.get("Reason") == "VOICEMAIL"
                    for f in frames
                )

            await eventually(voicemail, 20, "the caller reaches the voicemail")
            table = Ticket.__table__  # type: ignore[attr-defined]

            async def tickets() -> list[Any]:
                async with stack.cti.engine.connect() as conn:
                    return list((await conn.execute(sa.select(table))).all())

            async def one_ticket() -> bool:
                return len(await tickets()) == 1

            await eventually(one_ticket, 10, "a ticket for the voicemail")
            t = (await tickets())[0]._mapping
            assert (t["category"], t["source"], t["contact_number"]) == (
                "inquiry",
                "system",
                "13300000002",
            )
            assert f"voicemail-{left}.wav" in t["description"]
            assert not svc.waiting_calls()
    finally:
        await observer.close()
