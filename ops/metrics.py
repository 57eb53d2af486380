"""Prometheus metrics of one backend process, read when scraped (nothing is pushed, and
the hot paths only keep counters and kernel/measures.py histograms).

Each process reports what it has:
- the leader (the bridge runs here): calls in progress as Asterisk has them, the AMI
  link (up, connects, disconnects, resyncs), Asterisk's event time -> handled here;
- the router's process: callers waiting per queue, agents per state, the routing
  requests' time (decision and carrying it out);
- an HTTP process: the live view's callers waiting per queue when there is no router
  here, the bus lag it sees (an event's time -> heard), screen-pops sent;
- every process: its part in the cluster (leading or standby, term, ops/leader.py) and,
  on the Redis bus, the bus lag where its subscribers read (publish -> read); on the
  in-process bus, each consumer group's backlog (events not yet taken).
A registry per app (not the module-global one), so several runtimes in one test process
do not collide.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from hotline.services import Services
from kernel.measures import Histogram
from ops.leader import leader_state

if TYPE_CHECKING:
    from cti.bridge import CtiBridge


def _histogram(
    name: str, doc: str, h: Histogram | list[tuple[str, Histogram]]
) -> HistogramMetricFamily:
    """One histogram, or one per node (label `node`)."""
    if isinstance(h, Histogram):
        family = HistogramMetricFamily(name, doc)
        family.add_metric([], [(b, float(n)) for b, n in h.cumulative()], sum_value=h.sum)
        return family
    family = HistogramMetricFamily(name, doc, labels=["node"])
    for node, one in h:
        family.add_metric([node], [(b, float(n)) for b, n in one.cumulative()], sum_value=one.sum)
    return family


class HotlineCollector(Collector):
    def __init__(self, services: Services, hub: Any = None) -> None:
        self._services = services
        self._hub = hub  # the desk's AgentHub in an HTTP process

    @staticmethod
    def _bridges(bridges: list[CtiBridge]) -> Iterator[Metric]:
        """The AMI bridges of the leader, one sample per Asterisk node (label `node`)."""
        calls = GaugeMetricFamily(
            "hotline_calls_in_progress",
            "Calls Asterisk has now (the bridge's view)",
            labels=["node"],
        )
        up = GaugeMetricFamily(
            "hotline_ami_up", "1 when the AMI link is logged in", labels=["node"]
        )
        counters = {
            "hotline_ami_connects": CounterMetricFamily(
                "hotline_ami_connects", "AMI logins (1 + reconnects)", labels=["node"]
            ),
            "hotline_ami_disconnects": CounterMetricFamily(
                "hotline_ami_disconnects", "AMI links lost", labels=["node"]
            ),
            "hotline_bridge_resyncs": CounterMetricFamily(
                "hotline_bridge_resyncs", "Resyncs with Asterisk", labels=["node"]
            ),
        }
        for b in bridges:
            calls.add_metric([b.node], float(len(b.tracker.calls)))
            up.add_metric([b.node], 1.0 if b.client.ready else 0.0)
            counters["hotline_ami_connects"].add_metric([b.node], float(b.client.stats.connects))
            counters["hotline_ami_disconnects"].add_metric(
                [b.node], float(b.client.stats.disconnects)
            )
            counters["hotline_bridge_resyncs"].add_metric([b.node], float(b.resyncs))
        yield calls
        yield up
        yield from counters.values()
        yield _histogram(
            "hotline_bridge_event_lag_seconds",
            "Asterisk's event time to the bridge having handled it",
            [(b.node, b.event_lag) for b in bridges],
        )

    def collect(self) -> Iterator[Metric]:
        features = self._services.features
        yield from self._cluster()
        consume_lag = getattr(self._services.bus, "consume_lag", None)  # the Redis bus only
        if isinstance(consume_lag, Histogram):
            yield _histogram(
                "hotline_bus_consume_lag_seconds",
                "Published (Redis's time) to read by a subscriber in this process",
                consume_lag,
            )
        backlogs = getattr(self._services.bus, "backlogs", None)  # the in-process bus only
        if callable(backlogs):
            backlog = GaugeMetricFamily(
                "hotline_bus_backlog",
                "Events published and not yet taken by a consumer group (a consumer behind)",
                labels=["topic", "group"],
            )
            for (topic, group), n in sorted(backlogs().items()):
                backlog.add_metric([topic, group], float(n))
            yield backlog
        if features.bridges:
            yield from self._bridges(features.bridges)
        routing = features.routing
        if routing is not None:
            yield self._waiting(
                {q.name: 0 for q in self._services.settings.queues}
                | dict(Counter(str(c.get("queue")) for c in routing.waiting_calls()))
            )
            states = GaugeMetricFamily(
                "hotline_agents", "Agents signed in, by state", labels=["state"]
            )
            for state, n in sorted(Counter(a["state"] for a in routing.agents()).items()):
                states.add_metric([str(state)], float(n))
            yield states
            yield _histogram(
                "hotline_routing_request_seconds",
                "A routing request: the decision and carrying it out (pop, PBX commands)",
                routing.ctx.decisions,
            )
        live = features.live
        if live is not None:
            if routing is None:
                snapshot = live.snapshot()
                yield self._waiting({q["queue"]: q["waiting"] for q in snapshot["queues"]})
            yield _histogram(
                "hotline_bus_lag_seconds",
                "An event's time to this process's live view having it",
                live.bus_lag,
            )
        if self._hub is not None:
            pops = CounterMetricFamily("hotline_pops_sent", "Screen-pops on an agent's screen")
            pops.add_metric([], float(self._hub.pops_sent))
            yield pops

    def _waiting(self, by_queue: dict[str, int]) -> GaugeMetricFamily:
        waiting = GaugeMetricFamily(
            "hotline_callers_waiting", "Callers waiting, by queue", labels=["queue"]
        )
        for queue, n in sorted(by_queue.items()):
            waiting.add_metric([queue], float(n))
        return waiting

    def _cluster(self) -> Iterator[Metric]:
        state = leader_state(self._services)
        if state is None:
            return
        leading = GaugeMetricFamily(
            "hotline_cluster_leader", "1 while this process leads the cluster duties"
        )
        leading.add_metric([], 1.0 if state.leading else 0.0)
        yield leading
        term = GaugeMetricFamily("hotline_cluster_term", "Fencing token of the last term led")
        term.add_metric([], float(state.term))
        yield term


def registry(services: Services, hub: Any = None) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(HotlineCollector(services, hub))
    return reg
