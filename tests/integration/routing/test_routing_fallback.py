"""The backend stops while callers wait in their holding queues on the real Asterisk:
every caller still reaches the dialplan fallback (HotlineFallback) and leaves a callback
request (HotlineCallbackRequest, kept in AstDB); when the backend is back, the router
recovers those requests into callback_requests rows and keeps them in line."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from cti.ami.client import AmiClient
from cti.bridge import CtiBridge
from db.models import CallbackRequest
from devtools.services.asterisk import AsteriskInstance
from hotline.services import Features, Services
from kernel.clock import SystemClock
from routing.service import RoutingService
from tests.harness.cti import CtiStack
from tests.integration.routing.stack import routing_stack
from tests.support import eventually

pytestmark = pytest.mark.integration


async def test_backend_stopped_callers_reach_the_fallback_and_none_is_dropped(
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
    numbers = ["13700000001", "13700000002", "13700000003"]
    try:
        async with routing_stack(cti_stack, asterisk, {"1001": {"general": 5}}) as stack:
            await stack.service.login(stack.agents["1001"])  # nobody ready: callers wait
            callers = [
                await stack.caller(
                    skill="general", tier=tier, number=number, extra={"HOTLINE_MAX_WAIT": "8"}
                )
                for tier, number in zip("ABC", numbers, strict=True)
            ]
            assert {c["call_id"] for c in stack.service.waiting_calls()} == set(callers)

            # The backend goes away: router and CTI bridge stop.
            await stack.service.stop()
            await cti_stack.bridge.stop()

            def heard(name: str, linkedid: str) -> dict[str, Any] | None:
                return next(
                    (
                        f
                        for f in frames
                        if f.get("UserEvent") == name and f.get("Linkedid") == linkedid
                    ),
                    None,
                )

            await eventually(
                lambda: all(heard("HotlineCallbackRequest", c) for c in callers),
                40,
                "every caller through the fallback to a callback request",
            )
            for linkedid, number in zip(callers, numbers, strict=True):
                fallback = heard("HotlineFallback", linkedid)
                request = heard("HotlineCallbackRequest", linkedid)
                assert fallback is not None
                assert request is not None
                assert (fallback["Reason"], fallback["Queue"]) == ("TIMEOUT", "hold-general")
                assert request["Number"] == number

            # The backend comes back: a new bridge and router find the requests in AstDB.
            s = cti_stack.settings
            secret = s.pbx.ami.secret.get_secret_value() if s.pbx.ami.secret else ""
            bridge = CtiBridge(s.pbx.ami, s.pbx.dialplan, cti_stack.bus, secret=secret)
            await bridge.start()
            await bridge.client.wait_ready(15)
            services = Services(
                settings=s,
                bus=cti_stack.bus,
                engine=cti_stack.engine,
                sessions=cti_stack.sessions,
                pbx=bridge.commands,
                clock=SystemClock(),
                features=Features(bridges=[bridge]),
            )
            router = RoutingService(services)
            await router.start()
            try:

                async def recovered() -> bool:
                    async with cti_stack.engine.connect() as conn:
                        table = CallbackRequest.__table__  # type: ignore[attr-defined]
                        rows = (await conn.execute(sa.select(table.c.number))).all()
                    return sorted(r[0] for r in rows) == numbers

                await eventually(recovered, 20, "three callback requests recovered")
                # Stored first, then put in line: wait for the line too (CI run 4 read it
                # between the two and saw two of the three).
                await eventually(
                    lambda: len(router.waiting_calls("general")) == 3, 10, "three in line"
                )
                line = router.waiting_calls("general")
                assert [c["kind"] for c in line] == ["callback"] * 3
                # Read once: the AstDB keys are gone, a later reconnect adds nothing.
                tree = await bridge.client.send("DBGetTree", {"Family": "hotline/callback"})
                assert not [f for f in tree.events if f.get("Event") == "DBGetTreeResponse"]
            finally:
                await router.stop()
                await bridge.stop()
    finally:
        await observer.close()
