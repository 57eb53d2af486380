"""The leader's duties (hotline/cluster.py) as one process sees them: started in order
when it leads, stopped in reverse when it stops leading, and what they put on the
services gone with them (the HTTP side must not call a stopped bridge or router)."""

from __future__ import annotations

from typing import Any

import pytest

from cti.fake_pbx import FakePbx
from hotline.cluster import Duties
from hotline.services import Services
from kernel.clock import SystemClock
from tests.harness.http_app import api_services


class Duty:
    def __init__(self, name: str, log: list[str], *, fail: bool = False) -> None:
        self.name, self.log, self.fail = name, log, fail

    async def start(self) -> None:
        if self.fail:
            raise RuntimeError(f"{self.name} cannot start")
        self.log.append(f"start {self.name}")

    async def stop(self) -> None:
        self.log.append(f"stop {self.name}")


def factory(name: str, log: list[str], **kw: Any) -> Any:
    def build(services: Services) -> Duty:
        if name == "bridge":
            services.pbx = FakePbx()
        return Duty(name, log, **kw)

    return build


async def test_given_one_process_then_it_leads_runs_duties_in_order_and_stops_them_in_reverse(
    db_url: str,
) -> None:
    log: list[str] = []
    async with api_services(db_url, clock=SystemClock()) as services:
        duties = Duties(services, [(n, factory(n, log)) for n in ("call_log", "bridge", "routing")])
        await duties.start()
        assert duties.is_leader
        assert log == ["start call_log", "start bridge", "start routing"]
        assert services.pbx is not None
        assert services.fence is None  # one process: nobody to fence off
        assert services.features.leadership is duties.leadership
        await duties.stop()
        assert log[3:] == ["stop routing", "stop bridge", "stop call_log"]
        assert services.pbx is None, "the stopped bridge's commands are not left behind"


async def test_given_a_duty_that_fails_to_start_then_the_started_ones_stop_and_it_does_not_lead(
    db_url: str,
) -> None:
    log: list[str] = []
    async with api_services(db_url, clock=SystemClock()) as services:
        duties = Duties(
            services,
            [("call_log", factory("call_log", log)), ("bridge", factory("bridge", log, fail=True))],
        )
        with pytest.raises(RuntimeError, match="bridge cannot start"):
            await duties.start()
        assert log == ["start call_log", "stop call_log"]
        assert not duties.is_leader
        assert duties.running == []
