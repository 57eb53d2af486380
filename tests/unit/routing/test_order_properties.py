"""Properties of the routing core over random days (Hypothesis): customer tiers and
emergencies arrive in several queues, offers are answered, not answered or cancelled
(requeues), callers hang up or ask for a callback, supervisors change priorities, agents
go ready, not ready and sign out, and time runs through step timeouts, ageing rises and
wrap-ups. After every request:

(a) whenever an Offer is made, no call still waiting that the same agent may take
    (language, step target, not declined by it) has a strictly higher effective
    priority: an emergency caller waits behind nobody of lower priority;
(b) nor does one of the same priority that came back from an unanswered offer (head of
    the line) while the offered call did not;
(c) the indexed router (naive=False) makes exactly the decisions of the naive scan;
(d) a router that is never ticked makes the same decisions at the same instants as one
    ticked at every deadline (the deadline heap drives steps, ageing and wrap-ups);
(e) a waiting call's effective priority is its given priority plus the rises its time
    in line gives, and ageing never lifts a call to an emergency's priority.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel.clock import FakeClock
from routing.core.ageing import AgeingRule
from routing.core.model import Agent, AgentState, Offer, RouterEvent, RoutingError, WaitingCall
from routing.core.plan import QueueSpec, RoutingPlan
from routing.core.router import Router
from tests.unit.routing.support import QUEUES, T0, TIERS

EMERGENCY = 1000
AGEING = AgeingRule(step=5, every_seconds=15, max_priority=30)
# support.QUEUES (billing, repair with 30 s wrap-up, emergency) and one queue whose last
# step ends in an overflow.
PLAN_QUEUES = [*QUEUES, QueueSpec("complaint", "complaint", [("complaint", 30)])]
SKILLS = ["billing", "repair", "emergency", "general", "complaint"]
WAITS = [0.5, 1.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0]

# One operation: a kind (weighted by repetition) and numbers the driver turns into a
# choice among what exists at that moment (which call, which agent, which queue...).
KINDS = [
    *["arrive"] * 5,
    *["answer"] * 4,
    *["end"] * 3,  # a conversation ends: its agent wraps up
    *["wait"] * 4,
    *["ready"] * 2,
    *["wrap_done"] * 2,
    *["no_answer"] * 3,
    *["cancel"] * 2,
    "hang_up",  # a waiting or ringing caller hangs up
    "callback",
    "priority",
    "not_ready",
    "logout",
    "suspend",
    *["resume"] * 3,
]


def bits(n: int) -> st.SearchStrategy[int]:
    """A number of n bits drawn as booleans: Hypothesis injects constants it finds in the
    loaded modules into integer draws (so examples would depend on which test modules a
    worker imported first); boolean draws are never replaced, so the examples are the
    same in every process (derandomize=True) and shrink towards 0."""
    return st.tuples(*[st.booleans()] * n).map(lambda bs: sum(b << i for i, b in enumerate(bs)))


Op = tuple[str, int, int]
OPS = st.tuples(bits(8).map(lambda k: KINDS[k % len(KINDS)]), bits(12), bits(12))
LANGUAGES = [("zh",), ("zh", "en"), ("zh", "en"), ("en",)]


def _agent(n: int) -> tuple[dict[str, int], tuple[str, ...]]:
    """Skills from the low bits (present?, level 3..10 each), languages from the top."""
    skills = {name: 3 + (n >> (4 * i + 1)) % 8 for i, name in enumerate(SKILLS) if n >> (4 * i) & 1}
    return skills or {"general": 5}, LANGUAGES[(n >> 20) % len(LANGUAGES)]


AGENTS = st.lists(bits(22).map(_agent), min_size=2, max_size=6)
Roster = list[tuple[dict[str, int], tuple[str, ...]]]


def make_router(clock: FakeClock, *, naive: bool) -> Router:
    plan = RoutingPlan(
        PLAN_QUEUES,
        tier_priorities=TIERS,
        emergency_queues=["emergency"],
        emergency_priority=EMERGENCY,
        max_no_answer_before_pause=2,
        ageing=AGEING,
    )
    return Router(plan, clock, naive=naive)


def _id(call: WaitingCall) -> str:
    return call.call_id


def may_take(router: Router, agent: Agent, call: WaitingCall) -> bool:
    """The eligibility rule, written again from the README (the oracle)."""
    if call.language is not None and call.language not in agent.languages:
        return False
    if agent.agent_id in call.declined:
        return False
    steps = router.plan.queues[call.queue].steps
    return any(step.target(agent.skills) for step in steps[: call.step + 1])


@dataclass
class Day:
    """Three routers on one clock: indexed (ticked at every deadline), naive (ticked
    likewise) and lazy (indexed, never ticked: only the operations reach it)."""

    clock: FakeClock = field(default_factory=lambda: FakeClock(T0))
    calls: int = 0
    offers: int = 0
    # Offers where the order mattered: an emergency offered while a lesser call the agent
    # may take waits; a requeued call while one of its priority that did not requeue waits.
    emergencies_first: int = 0
    requeued_first: int = 0
    indexed_log: list[object] = field(default_factory=list)  # events (and refusals)
    lazy_log: list[object] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.indexed = make_router(self.clock, naive=False)
        self.naive = make_router(self.clock, naive=True)
        self.lazy = make_router(self.clock, naive=False)

    # -- running a request on every router ------------------------------------------------

    def request(self, name: str, *args: object, tick: bool = False, **kwargs: object) -> None:
        routers = (self.indexed, self.naive) if tick else (self.indexed, self.naive, self.lazy)
        results = [self._call(getattr(r, name), *args, **kwargs) for r in routers]
        assert results[0] == results[1], f"{name}{args}: indexed and naive disagree"
        self.indexed_log += results[0]
        if not tick:
            self.lazy_log += results[2]
            assert self.lazy_log == self.indexed_log, f"{name}{args}: ticks changed decisions"
        self.check(results[0])

    @staticmethod
    def _call(fn: Callable[..., list[RouterEvent]], *args: object, **kw: object) -> list[object]:
        try:
            return list(fn(*args, **kw))
        except RoutingError as exc:  # the same refusal everywhere; deadlines still count
            return [type(exc).__name__, *fn.__self__.tick()]  # type: ignore[attr-defined]

    def wait(self, seconds: float) -> None:
        """Time passes: each deadline on its own instant (one tick each), then the rest."""
        target = self.clock.timestamp() + seconds
        while (due := self.indexed.next_deadline()) is not None and due <= target:
            self.clock.set(max(self.clock.timestamp(), due))
            self.request("tick", tick=True)
        self.clock.set(target)

    # -- the properties -------------------------------------------------------------------

    def check(self, events: list[object]) -> None:
        router = self.indexed
        for e in events:
            if isinstance(e, Offer):
                self.check_offer(e)
        now = self.clock.timestamp()
        for call in router.calls.values():
            if call.priority < EMERGENCY:
                assert call.effective_priority < EMERGENCY
            if call.waiting:
                rises = AGEING.bumps_due(call.enqueued_at, now)
                assert call.effective_priority == call.priority + AGEING.gain(call.priority, rises)

    def check_offer(self, e: Offer) -> None:
        router = self.indexed
        agent, offered = router.agents[e.agent_id], router.calls[e.call_id]
        self.offers += 1
        p = offered.effective_priority
        lesser = same = False
        for other in router.calls.values():
            if not other.waiting or not may_take(router, agent, other):
                continue
            q = other.effective_priority
            assert q <= p, (
                f"{e.call_id} (priority {p}) offered to agent {e.agent_id} while "
                f"{other.call_id} (priority {q}) waits"
            )
            if q == p and other.head:
                assert offered.head, f"{e.call_id} offered before the requeued {other.call_id}"
            lesser |= q < p
            same |= q == p and not other.head
        self.emergencies_first += p >= EMERGENCY and lesser
        self.requeued_first += offered.head and same

    # -- operations ----------------------------------------------------------------------

    def run(self, op: Op) -> None:
        kind, n, m = op
        router = self.indexed
        offered = sorted(router.offers)
        if kind == "arrive":  # one to three callers at the same instant
            for k in range(1 + (m >> 4) % 3):
                self.calls += 1
                queue = PLAN_QUEUES[(n + k) % len(PLAN_QUEUES)].name
                tier = ("A", "B", "C", None)[(m + k) % 4]
                language = ("zh", "zh", "en", None)[(m // 4 + k) % 4]
                priority = router.plan.priority(queue, tier=tier)
                call_id = f"c{self.calls}"
                self.request("enqueue", call_id, queue, priority=priority, language=language)
        elif kind in ("answer", "no_answer", "cancel") and offered:
            call_id = offered[n % len(offered)]
            if kind == "answer":
                self.request("answered", call_id)
            elif kind == "no_answer":
                self.request("offer_failed", call_id)
            else:
                self.request("offer_cancelled", call_id, requeue=m % 2 == 0, decline=m % 3 == 0)
        elif kind == "end" and router.talking:
            talking = sorted(router.talking)
            self.request("call_ended", talking[n % len(talking)])
        elif kind == "hang_up" and router.calls:
            calls = sorted(router.calls)
            self.request("call_ended", calls[n % len(calls)])
        elif kind == "callback" and (waiting := sorted(router.waiting_calls(), key=_id)):
            self.request("to_callback", waiting[n % len(waiting)].call_id)
        elif kind == "priority" and router.calls:
            calls = sorted(router.calls)
            priority = (0, 10, 30, 500, EMERGENCY)[m % 5]
            self.request("set_priority", calls[n % len(calls)], priority)
        elif kind in ("ready", "not_ready", "logout", "wrap_done"):
            able = sorted(a for a, agent in router.agents.items() if agent.state in ABLE[kind])
            if able:
                self.agent_op(kind, router.agents[able[n % len(able)]])
        elif kind == "wait":
            self.wait(WAITS[n % len(WAITS)] if m % 2 else (m % 2500) / 100)
        elif kind in ("suspend", "resume") and (kind == "resume") != router.dispatching:
            self.request(kind)

    def agent_op(self, kind: str, agent: Agent) -> None:
        a = agent.agent_id
        if kind == "ready" and agent.state is AgentState.LOGGED_OUT:
            self.request("login", a, ready=True)
        elif kind == "not_ready":
            self.request("not_ready", a, "break")
        else:
            self.request(kind, a)


S = AgentState
# The agents an agent operation applies to (the others would refuse it).
ABLE = {
    "ready": {S.LOGGED_OUT, S.NOT_READY, S.WRAP_UP},
    "not_ready": {S.AVAILABLE, S.RESERVED, S.ON_CALL, S.WRAP_UP, S.NOT_READY},
    "logout": {S.AVAILABLE, S.NOT_READY, S.WRAP_UP},
    "wrap_done": {S.WRAP_UP},
}


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same examples on every run, in CI too
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(roster=AGENTS, ops=st.lists(OPS, min_size=10, max_size=120))
def test_emergencies_first_requeues_first_within_their_priority_and_routers_agree(
    roster: Roster, ops: list[Op]
) -> None:
    day = Day()
    for agent_id, (skills, languages) in enumerate(roster, start=1):
        day.request("add_agent", agent_id, str(1000 + agent_id), skills, languages)
        day.request("login", agent_id, ready=True)
    for op in ops:
        day.run(op)
    day.wait(120.0)  # everything still pending runs out
    day.request("tick")
    assert day.lazy_log == day.indexed_log


def test_the_random_days_do_reach_the_cases_that_matter() -> None:
    """The generator is not vacuous: over a fixed sample of days, emergencies are offered
    while lesser calls the same agent may take wait, and requeued calls while calls of
    their priority wait (what (a) and (b) are about)."""
    totals = Day()  # only its counters are used

    @settings(max_examples=100, deadline=None, derandomize=True, database=None)
    @given(roster=AGENTS, ops=st.lists(OPS, min_size=40, max_size=120))
    def sample(roster: Roster, ops: list[Op]) -> None:
        day = Day()
        for agent_id, (skills, languages) in enumerate(roster, start=1):
            day.request("add_agent", agent_id, str(1000 + agent_id), skills, languages)
            day.request("login", agent_id, ready=True)
        for op in ops:
            day.run(op)
        totals.offers += day.offers
        totals.emergencies_first += day.emergencies_first
        totals.requeued_first += day.requeued_first

    sample()
    assert totals.offers > 400
    assert totals.emergencies_first > 60
    assert totals.requeued_first > 20
