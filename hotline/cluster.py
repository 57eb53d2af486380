"""The cluster-wide duties: what exactly one backend process runs at a time.

The AMI bridge, the call log, the router with the agents' command server, the ticket
duties (SLA monitor, follow-up dialer, webhook deliveries), recordings and the daily
retention purge each keep state about calls in memory or act on the world (AMI
commands, calls placed, HTTP posts, files deleted): run twice, they would log, route,
dial or deliver twice. So they run together, in the process that holds the cluster's
lease (kernel/leadership.py), started in order when it wins and stopped in reverse when
it loses; any other `pbx` (or `all`) process is a standby that takes over by itself when
the lease lapses (at most cluster.lease_seconds after the leader died).

They run together, not each under a lease of its own, because they lean on each other
in memory: the router sends its offers through this process's bridge, recordings follow
the bridge's calls. What is spread over processes instead: the IVR (every `pbx`
process serves FastAGI), the HTTP API and websockets (every `api` process), the live
view (every process that serves HTTP).

Each term has a fencing token; the duties check it where their effects are written
(`services.fence`, kernel/fencing.py), so a leader paused past its lease cannot act on
an old term. A new leader starts from what is durable: the router rebuilds from
Asterisk and the database (routing/pbx/rebuild.py), the call log resumes from its
consumer group and the bridge's resync, callbacks and follow-ups from their rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence

from hotline.services import Services
from kernel.fencing import Fence
from kernel.leadership import Leadership, elect
from kernel.lifecycle import Component, stop_within

log = logging.getLogger("hotline.cluster")

DutyFactory = Callable[[Services], Component | None]
# Duties built from the routing plan (queues, steps, tiers): a configuration reload
# builds them again (the router rebuilds its line from Asterisk and the database).
RELOAD_RESTARTS = ("routing", "agent_commands", "supervisor_actions")
STOP_SECONDS = 20.0  # each duty's stop (as hotline/runtime.py COMPONENT_STOP_SECONDS)
FENCE = "duties"


class Duties:
    """A component: the duties, run while this process leads."""

    def __init__(self, services: Services, duties: Sequence[tuple[str, DutyFactory]]) -> None:
        self.services = services
        self.duties = duties
        self.running: list[tuple[str, Component]] = []
        s = services.settings
        self.leadership: Leadership = elect(
            s.redis.url,
            f"hotline:leader:{s.cluster.name}",
            start=self._lead,
            stop=self._step_down,
            ttl=s.cluster.lease_seconds,
            renew_every=s.cluster.renew_seconds,
        )
        services.features.leadership = self.leadership
        self.fence = Fence(services.sessions, FENCE, self.leadership, services.clock)
        self._pbx_before = services.pbx  # a test's fake PBX stays when the duties stop
        self._active = False

    @property
    def is_leader(self) -> bool:
        """This process holds the lease (its duties may still be starting)."""
        return self.leadership.is_leader

    @property
    def active(self) -> bool:
        """This process leads and every duty has started."""
        return self._active and self.leadership.is_leader

    async def start(self) -> None:
        await self.leadership.start()

    async def stop(self) -> None:
        await self.leadership.stop()

    def component(self, name: str) -> Component | None:
        return next((c for n, c in self.running if n == name), None)

    async def _lead(self) -> None:
        """This process won the lease: claim the term in the database, then start the
        duties in order (a failing start stops what started and gives the lease back)."""
        if not await self.fence.holds():
            raise RuntimeError("a newer term has already acted; not leading on an old token")
        self._pbx_before = self.services.pbx
        # With one process (the in-process bus) there is nobody to fence off.
        self.services.fence = self.fence if self.leadership.fenced else None
        log.info("leading the cluster duties (term %d)", self.leadership.token)
        try:
            for name, factory in self.duties:
                component = factory(self.services)
                if component is None:
                    continue
                await component.start()
                self.running.append((name, component))
                log.info("started duty %s", name)
        except BaseException:
            await self._step_down()
            raise
        self._active = True

    async def reload(self) -> None:
        if self.active:
            await self.restart(RELOAD_RESTARTS)

    async def restart(self, names: Collection[str]) -> list[str]:
        """Build the running duties in `names` again from services (after a configuration
        reload: the router's plan), each in its place in the start order; the others go
        on. Returns the duties restarted. The router rebuilds its line from Asterisk and
        the database as after a takeover, so no waiting caller is lost."""
        chosen = [i for i, (name, _) in enumerate(self.running) if name in names]
        for i in reversed(chosen):
            name, component = self.running[i]
            await stop_within(component.stop(), STOP_SECONDS, f"stopping duty {name}")
        factories = dict(self.duties)
        for i in chosen:
            name, _ = self.running[i]
            fresh = factories[name](self.services)
            if fresh is None:
                continue
            await fresh.start()
            self.running[i] = (name, fresh)
            log.info("restarted duty %s", name)
        return [self.running[i][0] for i in chosen]

    async def _step_down(self) -> None:
        self._active = False
        while self.running:
            name, component = self.running.pop()
            try:
                await stop_within(component.stop(), STOP_SECONDS, f"stopping duty {name}")
            except Exception:
                log.exception("stopping duty %s failed", name)
        # What the duties put on services is gone with them: the HTTP side of this
        # process must not call a stopped bridge or router (it uses the bus instead).
        features = self.services.features
        features.bridges = []
        features.routing = None
        features.recordings = None
        features.twilio_agents = None
        self.services.pbx = self._pbx_before
        self.services.fence = None
