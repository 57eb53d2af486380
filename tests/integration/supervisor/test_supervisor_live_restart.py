"""The live view of an API worker (no bridge in its process) after a restart: calls in
progress in the call log stay shown until a bridge's resync (pbx.connected, from any
process, over the bus) says Asterisk no longer has them; pending callbacks and tickets,
which publish nothing when the router makes them, are counted in the database."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from db.models import Call, Disposition
from hotline.services import Services
from routing.callback_store import CallbackStore
from supervisor.live_service import LiveService
from tests.harness.http_app import api_services
from tests.integration.supervisor.support_midnight import ShiftedClock, clear_of_midnight
from tests.support import eventually

pytestmark = pytest.mark.integration


def billing(snapshot: dict[str, Any]) -> dict[str, Any]:
    queue: dict[str, Any] = next(q for q in snapshot["queues"] if q["queue"] == "billing")
    return queue


async def waiting_row(services: Services, linkedid: str, waited: float) -> None:
    queued = services.clock.now() - dt.timedelta(seconds=waited)
    async with services.sessions() as s:
        s.add(
            Call(
                linkedid=linkedid,
                caller_number="13800138000",
                started_at=queued - dt.timedelta(seconds=20),
                queued_at=queued,
                skill="billing",
                queue="billing",
                disposition=Disposition.IN_PROGRESS,
                last_seq=6,
            )
        )
        await s.commit()


async def test_given_an_api_worker_then_a_bridge_resync_removes_lost_callers_and_counts_follow(
    db_url: str,
) -> None:
    now = time.time()
    clock = ShiftedClock(clear_of_midnight(now, 320) - now)  # started 320 s ago: today's
    async with api_services(db_url, clock=clock) as services:
        await waiting_row(services, "still-there", 60)
        await waiting_row(services, "hung-up-meanwhile", 300)
        live = LiveService(services, min_interval=0.05)
        await live.start()
        try:
            q = billing(live.snapshot())  # no bridge here: the call log is trusted...
            assert (q["waiting"], q["longest_wait_seconds"]) == (2, pytest.approx(300, abs=2))
            assert live.snapshot()["pbx_synced_at"] is None
            await services.bus.publish(
                "pbx",
                {
                    "type": "pbx.connected",
                    "at": services.clock.timestamp(),
                    "call_ids": ["still-there"],
                },
            )

            async def reconciled() -> bool:
                return bool(billing(live.snapshot())["waiting"] == 1)

            await eventually(reconciled, 10, "the lost caller out of the view")
            q = billing(live.snapshot())
            assert q["longest_wait_seconds"] == pytest.approx(60, abs=2)
            assert q["metrics"]["offered"] == 2  # as the call log still has them

            store = CallbackStore(services.sessions, services.settings)
            await store.find_or_create(
                linkedid=None,
                number="13800138000",
                skill="billing",
                priority=10,
                language="zh",
                customer_id=None,
                enqueued_at=services.clock.timestamp(),
            )
            await store.open_ticket(  # the router's tickets: nothing on the bus
                category="inquiry",
                subject="留言 / voicemail",
                description="",
                number=None,
                customer_id=None,
                linkedid=None,
                relation="voicemail",
            )
            await services.bus.publish("ticket", {"type": "ticket.created"})  # someone's

            async def counted() -> bool:
                s = live.snapshot()
                return bool((s["total"]["tickets"], billing(s)["callbacks_pending"]) == (1, 1))

            await eventually(counted, 10, "the ticket and the pending callback counted")
        finally:
            await live.stop()
