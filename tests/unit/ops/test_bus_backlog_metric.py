"""The in-process bus's consumer-group backlogs on /metrics: a consumer falling behind
(the call log writer at one commit per event kept ~7 events/s behind in the capacity
soak, held in memory) shows as hotline_bus_backlog before memory does."""

from __future__ import annotations

from prometheus_client import generate_latest

from hotline.services import Services
from kernel.bus.memory import MemoryBus
from kernel.config import load_settings
from ops.metrics import registry
from tests.unit.kernel.test_config import ROOT


def backlog_line(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("hotline_bus_backlog{")]


async def test_a_group_behind_shows_its_backlog_until_it_reads() -> None:
    bus = MemoryBus()
    sub = await bus.subscribe("call", group="calllog", consumer="c1")
    for n in range(3):
        await bus.publish("call", {"type": "call.started", "n": n})
    assert bus.backlogs() == {("call", "calllog"): 3}
    services = Services(load_settings(ROOT / "config.yaml", env={}), bus, None, None)  # type: ignore[arg-type]
    text = generate_latest(registry(services)).decode()
    assert backlog_line(text) == ['hotline_bus_backlog{group="calllog",topic="call"} 3.0']
    msg = await sub.get(timeout=1)
    await sub.ack(msg)
    assert bus.backlogs() == {("call", "calllog"): 2}
    text = generate_latest(registry(services)).decode()
    assert backlog_line(text) == ['hotline_bus_backlog{group="calllog",topic="call"} 2.0']
    await sub.close()
    await bus.close()
