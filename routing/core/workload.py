"""A synthetic contact-center day for the routing core: the benchmark (bench/routing.py)
and the equivalence tests drive the indexed and the naive router with it. Pure and
seeded: the same seed gives the same operations, as long as the decisions agree.

Queues are one per skill, each with three relaxation steps (level >= 7 for 20 s, >= 3
for 40 s, then the skill or a neighbouring one); agents have 3-5 skills; customer tiers
and a few emergencies set priorities; a few calls need English. Waiting calls age as
config.yaml ships it (5 points a minute up to tier A), so the ageing timers are part of
what the benchmark measures and the equivalence tests compare.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from kernel.clock import FakeClock
from routing.core.ageing import AgeingRule
from routing.core.model import AgentChanged, AgentState, Offer, RouterEvent
from routing.core.plan import QueueSpec, RoutingPlan
from routing.core.router import Router

TIERS = {"A": 30, "B": 20, "C": 10}


def make_plan(skills: int) -> RoutingPlan:
    names = [f"s{i:02d}" for i in range(skills)]
    queues = [
        QueueSpec(
            name,
            name,
            [
                (f"{name} >= 7", 20),
                (f"{name} >= 3", 40),
                (f"{name} or {names[(i + 1) % skills]}", None),
            ],
            wrap_up_seconds=(0, 5, 10, 30)[i % 4],
        )
        for i, name in enumerate(names)
    ]
    return RoutingPlan(
        queues,
        tier_priorities=TIERS,
        emergency_queues=[names[0]],
        max_no_answer_before_pause=2,
        ageing=AgeingRule(step=5, every_seconds=60, max_priority=TIERS["A"]),
    )


Op = Callable[[], list[RouterEvent]]


@dataclass
class Workload:
    router: Router
    clock: FakeClock
    rng: random.Random
    waiting_target: int
    on_call: list[str] = field(default_factory=list)  # answered calls, oldest first
    offered: list[str] = field(default_factory=list)  # offers not answered yet
    paused: list[int] = field(default_factory=list)
    calls: int = 0
    decisions: list[tuple[str, int, float]] = field(default_factory=list)

    @classmethod
    def build(cls, *, agents: int, skills: int, waiting: int, seed: int, naive: bool) -> Workload:
        clock = FakeClock(1_763_800_000.0)
        load = cls(
            Router(make_plan(skills), clock, naive=naive), clock, random.Random(seed), waiting
        )
        rng = random.Random(seed + 1)  # the roster: independent of the event stream
        names = [q.name for q in load.router.plan.queues]
        for agent_id in range(1, agents + 1):
            chosen = rng.sample(names, rng.randint(3, 5))
            levels = {s: rng.randint(1, 10) for s in chosen}
            languages = ["zh", "en"] if rng.random() < 0.1 else ["zh"]
            load.router.add_agent(agent_id, str(10000 + agent_id), levels, languages)
            load.apply(load.router.login(agent_id, ready=True))
        while load.waiting() < waiting:
            clock.advance(0.01)  # arrivals spread over time, not one instant
            load.apply(load.arrive()())
            load.answer_all()
        return load

    def waiting(self) -> int:
        return len(self.router.calls) - len(self.offered)

    def apply(self, events: list[RouterEvent]) -> None:
        for e in events:
            if isinstance(e, Offer):
                self.offered.append(e.call_id)
                self.decisions.append((e.call_id, e.agent_id, e.at))
            elif (
                isinstance(e, AgentChanged)
                and e.state is AgentState.NOT_READY
                and e.reason == "no_answer"
            ):
                self.paused.append(e.agent_id)

    def answer_all(self) -> None:
        for call_id in self.offered:
            self.apply(self.router.answered(call_id))
            self.on_call.append(call_id)
        self.offered.clear()

    # -- operations (each returns the router call to time) ---------------------------------

    def arrive(self) -> Op:
        self.calls += 1
        rng = self.rng
        queues = self.router.plan.queues
        # A skewed mix: the first queues are busier.
        q = queues[min(int(rng.expovariate(1 / 8)), len(queues) - 1)]
        tier = rng.choices("ABC", weights=(1, 2, 7))[0]
        language = "en" if rng.random() < 0.05 else "zh"
        priority = self.router.plan.priority(q.name, tier=tier)
        call_id = f"c{self.calls}"
        return lambda: self.router.enqueue(call_id, q.name, priority=priority, language=language)

    def next_op(self) -> tuple[str, Op]:
        """One realistic event: a call ends (its agent wraps up, later frees and takes the
        next call), a call arrives, time passes (steps relax, wrap-ups end), an offer is
        answered or not, an agent pauses or comes back."""
        rng = self.rng
        self.clock.advance(rng.uniform(0.0, 0.1))
        r = rng.random()
        if r < 0.35 and self.offered:
            call_id = self.offered.pop(0)
            if rng.random() < 0.03:
                return "no_answer", lambda: self.router.offer_failed(call_id)
            self.on_call.append(call_id)
            return "answered", lambda: self.router.answered(call_id)
        if 0.35 <= r < 0.60 and self.on_call:
            call_id = self.on_call.pop(rng.randrange(len(self.on_call)))
            return "call_ended", lambda: self.router.call_ended(call_id)
        arrivals = 0.35 if self.waiting() < self.waiting_target else 0.25
        if 0.60 <= r < 0.60 + arrivals:
            return "call_arrived", self.arrive()
        if self.paused and rng.random() < 0.2:
            agent_id = self.paused.pop(0)
            return "agent_ready", lambda: self.router.ready(agent_id)
        # Time passes up to the next deadline: one step timeout or wrap-up end per event.
        now, deadline = self.clock.timestamp(), self.router.next_deadline()
        if deadline is not None and deadline - now < 2.0:
            self.clock.set(max(now, deadline))
        else:
            self.clock.advance(rng.uniform(0.0, 2.0))
        return "deadline", self.router.tick
