"""The frame of the routing core: state, deadlines, placing calls, matching. Pure.

Every public request runs through `_run`: first the deadlines that passed are handled
(in deadline order, each at its own instant, so the result does not depend on how often
`tick()` is called), then the request; the RouterEvents it caused are returned for the
adapter to carry out. routing/core/call_commands.py and routing/core/agent_commands.py add the
requests; routing/core/router.py puts them together.

Invariant between requests: no offerable agent may take any waiting call. So a freed
agent takes the best call it may take (across all its queues), an arriving or widening
call takes the best agent that may take it, and both choices are fair. Deadlines that
fall on the same instant are handled together: every step and priority changes first,
agents freed then choose, and only then do the widened calls look for agents, best
first; so a widened lesser call never takes the agent a widened emergency could have.

Line order (WaitingCall.order_key): effective priority (routing/core/ageing.py), then a call
back from an unanswered offer, then the longest waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from kernel.clock import Clock
from routing.core.model import (
    Agent,
    AgentChanged,
    AgentState,
    CallKind,
    Offer,
    Overflowed,
    QueueStats,
    RouterEvent,
    UnknownAgent,
    UnknownCall,
    WaitingCall,
    WrapUpEnded,
)
from routing.core.naive import NaiveSelector
from routing.core.plan import RoutingPlan
from routing.core.selection import IndexedSelector, Selector
from routing.core.timers import AGE, STEP, WRAP, Timers

HANDLE_SMOOTHING = 0.2  # weight of the newest handle time in the per-queue average


class RouterCore:
    def __init__(self, plan: RoutingPlan, clock: Clock, *, naive: bool = False) -> None:
        self.plan = plan
        self.clock = clock
        self.agents: dict[int, Agent] = {}
        self.by_extension: dict[str, Agent] = {}
        self.calls: dict[str, WaitingCall] = {}  # waiting or offered
        self.offers: dict[str, int] = {}  # call id -> reserved agent id
        self.talking: dict[str, int] = {}  # call id -> agent on it (until wrap-up)
        self.timers = Timers()
        self.stats = [QueueStats(handle_seconds=plan.default_handle_seconds) for _ in plan.queues]
        self.selector: Selector = (
            NaiveSelector(plan, self.agents, self.calls) if naive else IndexedSelector(plan)
        )
        self.dispatching = True
        self._seq = 0
        self._at = clock.timestamp()
        self._out: list[RouterEvent] = []

    # -- the frame of every request ----------------------------------------------------

    def _run(self, action: Callable[[], object]) -> list[RouterEvent]:
        now = self.clock.timestamp()
        self._advance(now)
        self._at = max(now, self._at)
        action()
        out, self._out = self._out, []
        return out

    def tick(self) -> list[RouterEvent]:
        return self._run(lambda: None)

    def next_deadline(self) -> float | None:
        return self.timers.next_deadline()

    def _advance(self, now: float) -> None:
        while (when := self.timers.next_deadline()) is not None and when <= now:
            self._at = when
            widened: list[WaitingCall] = []
            while (due := self.timers.pop_due(when)) is not None:
                _, kind, key = due
                if kind == STEP:
                    call = self._step_due(key)
                    if call is not None:
                        widened.append(call)
                elif kind == AGE:
                    self._age_due(key)
                elif kind == WRAP:
                    self._end_wrap(self.agents[key], None)
            for call in sorted(widened, key=WaitingCall.order_key):
                if call.waiting:
                    self._find_agent(call)

    def _call(self, call_id: str) -> WaitingCall:
        try:
            return self.calls[call_id]
        except KeyError:
            raise UnknownCall(call_id) from None

    def _place(self, call: WaitingCall, *, match: bool = True) -> None:
        """Put a (returning) call in line at the step its time in the queue gives, with
        the priority its time in line gives; then (match) it looks for an agent."""
        q = self.plan.queues[call.queue]
        call.waiting = True
        call.step = q.step_at(self._at - call.step_base)
        if call.step >= len(q.steps):
            if call.may_overflow and call.kind is not CallKind.CALLBACK:
                self._overflow(call)
                return
            call.step = len(q.steps) - 1
        self._schedule_step(call)
        self._age(call)
        self._touch_call(call)
        if match:
            self._find_agent(call)

    def _schedule_step(self, call: WaitingCall) -> None:
        end = self.plan.queues[call.queue].steps[call.step].ends_after
        if end is None:
            self.timers.cancel(STEP, call.call_id)
        else:
            self.timers.schedule(call.step_base + end, STEP, call.call_id, call.seq)

    def _step_due(self, call_id: str) -> WaitingCall | None:
        """The call reaches its next step (or overflows); returns it if it widened: the
        caller lets it look for an agent once everything due at this instant is done."""
        call = self.calls.get(call_id)
        if call is None or not call.waiting:
            return None
        steps = self.plan.queues[call.queue].steps
        if call.step + 1 >= len(steps):
            if call.may_overflow and call.kind is not CallKind.CALLBACK:
                self._overflow(call)
            return None
        call.step += 1
        self._schedule_step(call)
        self._touch_call(call)
        return call

    # -- ageing ---------------------------------------------------------------------------

    def _age(self, call: WaitingCall) -> None:
        """Bring the call's priority up to its time in line and plan its next rise."""
        rule = self.plan.ageing
        if rule is None:
            return
        call.bumps = max(call.bumps, rule.bumps_due(call.enqueued_at, self._at))
        call.aged = rule.gain(call.priority, call.bumps)
        when = rule.next_instant(call.priority, call.enqueued_at, call.bumps)
        if when is None:
            self.timers.cancel(AGE, call.call_id)
        else:
            self.timers.schedule(when, AGE, call.call_id, call.seq)

    def _age_due(self, call_id: str) -> None:
        """A rise is due now (bumps_due counts it). A higher priority makes no agent
        eligible (the invariant holds): only the line order changes, nobody is matched."""
        call = self.calls.get(call_id)
        if call is not None and call.waiting:
            self._age(call)
            self._touch_call(call)

    def _overflow(self, call: WaitingCall) -> None:
        q = self.plan.queues[call.queue]
        self._drop(call)
        action, target = q.overflow_action, q.overflow_target
        self._out.append(Overflowed(call.call_id, q.name, action, target, call.kind, self._at))

    def _drop(self, call: WaitingCall) -> None:
        call.waiting = False
        call.version += 1
        self.timers.cancel(STEP, call.call_id)
        self.timers.cancel(AGE, call.call_id)
        del self.calls[call.call_id]

    def _touch_call(self, call: WaitingCall) -> None:
        call.version += 1
        self.selector.call_changed(call)

    # -- matching ------------------------------------------------------------------------

    def _find_agent(self, call: WaitingCall) -> None:
        if not self.dispatching:
            return
        agent = self.selector.best_agent_for(call)
        if agent is not None:
            self._assign(call, agent)

    def _agent_free(self, agent: Agent) -> None:
        """The agent may take calls now: the best one it may take, else it waits."""
        if not agent.offerable:
            return
        call = self.selector.best_call_for(agent) if self.dispatching else None
        if call is None:
            self.selector.agent_changed(agent)
        else:
            self._assign(call, agent)

    def _assign(self, call: WaitingCall, agent: Agent) -> None:
        call.waiting = False
        call.version += 1
        self.timers.cancel(STEP, call.call_id)
        self.timers.cancel(AGE, call.call_id)  # _place catches up if the call comes back
        self.offers[call.call_id] = agent.agent_id
        agent.call_id, agent.call_queue = call.call_id, call.queue
        self._move(agent, AgentState.RESERVED)
        q = self.plan.queues[call.queue]
        self._out.append(
            Offer(
                call.call_id,
                agent.agent_id,
                agent.extension,
                q.name,
                call.step,
                call.priority,
                round(self._at - call.enqueued_at, 3),
                call.kind,
                call.predicted_wait,
                self._at,
            )
        )

    def _offered(self, call_id: str) -> Agent:
        agent_id = self.offers.get(call_id)
        if agent_id is None:
            raise UnknownCall(f"no offer for call {call_id}")
        return self.agents[agent_id]

    def _release(self, agent: Agent, pause: str | None = None) -> None:
        agent.call_id, agent.call_queue = None, -1
        if pause is not None or agent.pending_not_ready:
            reason = pause or agent.pending_reason
            agent.pending_not_ready, agent.pending_reason = False, None
            self._move(agent, AgentState.NOT_READY, reason)
        else:
            self._move(agent, AgentState.AVAILABLE)

    # -- wrap-up ---------------------------------------------------------------------------

    def _start_wrap(self, agent: Agent) -> None:
        wrap = self.plan.queues[agent.call_queue].wrap_up_seconds
        agent.wrap_until = self._at + wrap
        self._move(agent, AgentState.WRAP_UP)
        if wrap <= 0:
            self._end_wrap(agent, None)
        else:
            self.timers.schedule(agent.wrap_until, WRAP, agent.agent_id, agent.agent_id)

    def _end_wrap(self, agent: Agent, code: str | None, *, release: bool = True) -> None:
        """Wrap-up is over (timer, the agent's word, or a state change): report it with
        its length and code; `release=False` leaves the next state to the caller."""
        if agent.state is not AgentState.WRAP_UP:
            return
        self.timers.cancel(WRAP, agent.agent_id)
        q = agent.call_queue
        call_id = agent.call_id or ""
        wrap_seconds = round(self._at - agent.since, 3)
        if agent.answered_at is not None:
            stats = self.stats[q]
            handled = self._at - agent.answered_at
            stats.handle_seconds += HANDLE_SMOOTHING * (handled - stats.handle_seconds)
        self._out.append(
            WrapUpEnded(
                agent.agent_id,
                call_id,
                self.plan.queues[q].name,
                wrap_seconds,
                code,
                self._at,
            )
        )
        agent.last_wrap = (call_id, self.plan.queues[q].name, wrap_seconds)
        agent.answered_at = agent.wrap_until = None
        if release:
            self._release(agent)
            self._agent_free(agent)
        else:
            agent.call_id, agent.call_queue = None, -1
            agent.pending_not_ready, agent.pending_reason = False, None

    # -- helpers -------------------------------------------------------------------------

    def _agent(self, agent_id: int) -> Agent:
        try:
            return self.agents[agent_id]
        except KeyError:
            raise UnknownAgent(str(agent_id)) from None

    def _move(self, agent: Agent, to: AgentState, reason: str | None = None) -> None:
        agent.move(to, self._at, reason)
        self._out.append(AgentChanged(agent.agent_id, agent.extension, to, agent.reason, self._at))

    def waiting_calls(self, queue: str | None = None) -> list[WaitingCall]:
        index = None if queue is None else self.plan.queue(queue).index
        calls: Iterable[WaitingCall] = (
            c for c in self.calls.values() if c.waiting and (index is None or c.queue == index)
        )
        return sorted(calls, key=WaitingCall.order_key)

    def queue_stats(self) -> Mapping[str, QueueStats]:
        return {q.name: self.stats[q.index] for q in self.plan.queues}
