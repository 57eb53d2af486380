"""The IVR's callback request on the real Asterisk reaches the router: the caller presses
4, hangs up, and RoutingService keeps its place in line as a pending callback (the same
path as the dialplan's own capture, UserEvent HotlineCallbackRequest)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import sqlalchemy as sa

from cti.ami.errors import AmiActionFailed
from db.models import metadata
from devtools.services.asterisk import AsteriskInstance
from hotline.services import Features, Services
from ivr.fastagi import IvrFastAgiServer
from kernel.clock import FakeClock, SystemClock
from routing.service import RoutingService
from tests.harness.cti import CtiStack
from tests.integration.ivr.support import seed_ivr_customers
from tests.integration.ivr.test_ivr_fastagi import MONDAY_MORNING
from tests.ivr_scenarios import ZHANG, ZHANG_PHONE
from tests.support import eventually

pytestmark = pytest.mark.integration
CALLBACKS = metadata.tables["callback_requests"]


async def _callbacks(stack: CtiStack) -> list[dict[str, Any]]:
    async with stack.engine.connect() as conn:
        return [dict(r._mapping) for r in (await conn.execute(sa.select(CALLBACKS))).all()]


def _services(stack: CtiStack, clock: Any) -> Services:
    return Services(
        settings=stack.settings,
        bus=stack.bus,
        engine=stack.engine,
        sessions=stack.sessions,
        pbx=stack.bridge.commands,
        clock=clock,
        features=Features(bridges=[stack.bridge]),
    )


async def test_ivr_callback_request_becomes_the_routers_pending_callback(
    cti_stack: CtiStack, asterisk: AsteriskInstance
) -> None:
    ids = await seed_ivr_customers(cti_stack.sessions)
    with contextlib.suppress(AmiActionFailed):  # other tests' dialplan captures
        await cti_stack.bridge.client.send("DBDelTree", {"Family": "hotline/callback"})
    router = RoutingService(_services(cti_stack, SystemClock()))
    ivr = IvrFastAgiServer(_services(cti_stack, FakeClock(MONDAY_MORNING)))  # center open
    await router.start()
    await ivr.start()
    try:
        linkedid = await cti_stack.call(caller=ZHANG_PHONE, dtmf="ww4")
        row = await cti_stack.wait_ended(linkedid, 60)
        assert row["disposition"] == "callback_requested"
        assert row["ivr_path"][-1] == "callback"

        async def booked() -> bool:
            return len(await _callbacks(cti_stack)) == 1

        await eventually(booked, 30, "the router's callback row")
        (callback,) = await _callbacks(cti_stack)
        assert (callback["number"], callback["skill"], callback["state"]) == (
            ZHANG_PHONE,
            "general",
            "pending",
        )
        assert callback["customer_id"] == ids[ZHANG.id]
        assert callback["priority"] == 30  # tier A
        # Its place in line (the shared Asterisk may hold other tests' callers too).
        callbacks = [w for w in router.waiting_calls() if w["kind"] == "callback"]
        assert [(w["queue"], w["priority"]) for w in callbacks] == [("general", 30)]
    finally:
        await ivr.stop()
        await router.stop()
