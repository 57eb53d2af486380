"""The tickets feature as the composition root starts it: TicketsRuntime registers its
services, runs its loops (SLA monitor, follow-up dialer, webhooks, a FastAGI server for
the survey routes when no IVR server exists) and stops cleanly."""

from __future__ import annotations

import asyncio

import pytest

from devtools.services.net import free_port
from hotline.care import TicketsRuntime
from integrations.webhooks import WebhookGateway
from ivr.agi_server import FastAgiServer
from kernel.clock import SystemClock
from tests.integration.tickets.support import services_for
from tickets.service import TicketService


async def test_given_the_runtime_then_it_registers_runs_and_stops(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_TEST_RT_SECRET", "x")
    port = free_port()
    env = {
        "HOTLINE_PBX__FASTAGI__PORT": str(port),
        "HOTLINE_TICKETS__WEBHOOKS": '[{name: crm, url: "http://127.0.0.1:9/x", secret_env: HOTLINE_TEST_RT_SECRET}]',
    }
    async with services_for(db_url, clock=SystemClock(), env=env) as services:
        runtime = TicketsRuntime(services, own_fastagi=True)
        assert isinstance(services.features.tickets, TicketService)
        assert services.features.surveys is runtime.surveys
        assert any(isinstance(c, WebhookGateway) for c in runtime.components)
        assert any(isinstance(c, FastAgiServer) for c in runtime.components)
        await runtime.start()
        try:
            # The survey routes answer on the configured FastAGI port.
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"agi_network_script: nothing-here\n\n")
            await writer.drain()
            assert await asyncio.wait_for(reader.read(), 5) == b""  # unknown route: closed
            writer.close()
        finally:
            await runtime.stop()
        assert runtime.sla._tasks == []


async def test_given_a_failing_component_then_start_leaves_nothing_running(db_url: str) -> None:
    port = free_port()
    blocker = await asyncio.start_server(lambda r, w: None, "127.0.0.1", port)
    try:
        async with services_for(db_url, env={"HOTLINE_PBX__FASTAGI__PORT": str(port)}) as services:
            runtime = TicketsRuntime(services, own_fastagi=True)
            with pytest.raises(OSError, match="address already in use"):
                await runtime.start()
            assert runtime._started == []
            assert runtime.sla._tasks == []
    finally:
        blocker.close()
        await blocker.wait_closed()
