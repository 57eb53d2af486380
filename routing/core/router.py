"""The routing core as one object. Pure and deterministic: build it from a RoutingPlan
and a Clock.

    router = Router(RoutingPlan.from_settings(settings), clock)
    router.add_agent(7, "1001", {"billing": 8}, ["zh"]); router.login(7, ready=True)
    events = router.enqueue("1763800000.12", "billing", priority=30)   # -> [AgentChanged, Offer]

Every public request runs through `_run`: first the deadlines that passed are handled
(in deadline order, each at its own instant, so the result does not depend on how often
`tick()` is called), then the request; the RouterEvents it caused are returned for the
adapter to carry out. The class reads in four parts: the frame (state, deadlines, placing,
matching), the requests about calls, the requests about agents, and the views.

Invariant between requests: no offerable agent may take any waiting call. So a freed
agent takes the best call it may take (across all its queues), an arriving or widening
call takes the best agent that may take it, and both choices are fair. Deadlines that
fall on the same instant are handled together: every step and priority changes first,
agents freed then choose, and only then do the widened calls look for agents, best
first; so a widened lesser call never takes the agent a widened emergency could have.

Line order (WaitingCall.order_key): effective priority (routing/core/ageing.py), then a call
back from an unanswered offer, then the longest waiting.

Agent transitions follow routing.core.model.TRANSITIONS; asking for not-ready while
reserved or on a call is remembered and applied when the wrap-up ends.

`naive=True` answers every question by scanning everything (the reference the indexed
selection is checked against).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from kernel.clock import Clock
from routing.core.model import (
    Agent,
    AgentChanged,
    AgentNotFree,
    AgentState,
    CallKind,
    IllegalTransition,
    Offer,
    Overflowed,
    PhoneOffline,
    Presence,
    QueueStats,
    RouterEvent,
    UnknownAgent,
    UnknownCall,
    UnknownReason,
    WaitingCall,
    WrapUpEnded,
)
from routing.core.naive import NaiveSelector
from routing.core.plan import RoutingPlan
from routing.core.selection import IndexedSelector, Selector
from routing.core.timers import AGE, STEP, WRAP, Timers

NO_ANSWER = "no_answer"  # the not-ready reason after an unanswered offer
PHONE_OFFLINE = "phone_offline"  # ... after the agent's browser phone went away
HANDLE_SMOOTHING = 0.2  # weight of the newest handle time in the per-queue average


class Router:
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
        if rule is None or call.kind is CallKind.CAMPAIGN:
            return  # campaign calls never age above an inbound caller
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
        if pause is None and agent.phone is not None and agent.presence is Presence.ABSENT:
            pause = PHONE_OFFLINE  # its browser phone went away during the call
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

    # == requests about calls ==========================================================

    def enqueue(
        self,
        call_id: str,
        queue: str,
        *,
        priority: int,
        language: str | None = None,
        enqueued_at: float | None = None,
        step_base: float | None = None,
        kind: CallKind = CallKind.LIVE,
        head: bool = False,
        predicted_wait: float | None = None,
        may_overflow: bool = True,
    ) -> list[RouterEvent]:
        plan = self.plan.queue(queue)

        def run() -> None:
            if call_id in self.calls:
                return  # already known (duplicate event, or a requeue while offered)
            self._seq += 1
            call = WaitingCall(
                call_id,
                plan.index,
                priority,
                language,
                enqueued_at=self._at if enqueued_at is None else enqueued_at,
                step_base=self._at if step_base is None else step_base,
                seq=self._seq,
                kind=kind,
                head=head,
                may_overflow=may_overflow,
                predicted_wait=predicted_wait,
            )
            self.calls[call_id] = call
            self._place(call)

        return self._run(run)

    def remove_call(self, call_id: str, *, abandoned: bool = False) -> list[RouterEvent]:
        """The call left (hung up, overflowed by the dialplan): forget it if waiting."""

        def run() -> None:
            call = self.calls.get(call_id)
            if call is None or not call.waiting:
                return
            self._drop(call)
            if abandoned:
                self.stats[call.queue].abandoned += 1

        return self._run(run)

    def set_priority(self, call_id: str, priority: int) -> list[RouterEvent]:
        """A new given priority (a supervisor); ageing goes on from the time waited."""

        def run() -> None:
            call = self._call(call_id)
            call.priority = priority
            if call.waiting:
                self._age(call)
                self._touch_call(call)

        return self._run(run)

    def to_callback(self, call_id: str) -> list[RouterEvent]:
        """The caller asked to be called back: the entry stays, place kept, no channel."""

        def run() -> None:
            call = self._call(call_id)
            call.kind = CallKind.CALLBACK
            call.head = False
            if call.waiting:
                self._touch_call(call)  # its place in the indexes moved (no longer head)

        return self._run(run)

    def suspend(self) -> list[RouterEvent]:
        """Stop deciding (the PBX is away): calls and agents are kept, nobody is offered."""
        return self._run(lambda: setattr(self, "dispatching", False))

    def resume(self) -> list[RouterEvent]:
        """Decide again: waiting calls in line order take the best free agents."""

        def run() -> None:
            self.dispatching = True
            for call in sorted(self.calls.values(), key=WaitingCall.order_key):
                if call.waiting:
                    self._find_agent(call)

        return self._run(run)

    # -- offers and calls in progress ------------------------------------------------------

    def offer_for(self, call_id: str) -> Agent | None:
        agent_id = self.offers.get(call_id)
        return None if agent_id is None else self.agents[agent_id]

    def answered(self, call_id: str) -> list[RouterEvent]:
        def run() -> None:
            agent = self._offered(call_id)
            call = self.calls.pop(call_id)
            del self.offers[call_id]
            self.talking[call_id] = agent.agent_id
            agent.no_answers = 0
            agent.answered_at = self._at
            self._move(agent, AgentState.ON_CALL)
            if call.kind is CallKind.CAMPAIGN:
                return  # outbound: not in the inbound service level
            stats = self.stats[call.queue]
            waited = self._at - call.enqueued_at
            stats.answered += 1
            if waited <= self.plan.queues[call.queue].sl_seconds:
                stats.answered_in_sl += 1

        return self._run(run)

    def offer_failed(self, call_id: str) -> list[RouterEvent]:
        """No answer (or busy): the call goes back to the head of the line within its
        priority and is not offered to this agent again; the agent pauses after too many
        in a row."""

        def run() -> None:
            agent = self._offered(call_id)
            call = self.calls[call_id]
            del self.offers[call_id]
            agent.no_answers += 1
            call.declined = call.declined | {agent.agent_id}
            call.head = True
            if agent.no_answers >= self.plan.max_no_answer:
                self._release(agent, pause="no_answer")
            else:
                self._release(agent)
            self._place(call)
            self._agent_free(agent)

        return self._run(run)

    def offer_cancelled(
        self, call_id: str, *, requeue: bool, decline: bool = False
    ) -> list[RouterEvent]:
        """The offer could not go on without the agent being at fault: the caller hung
        up while it rang (requeue=False), or the PBX could not connect (requeue=True:
        back at the head of the line within its priority, as the dialplan requeues it;
        decline=True: not to this agent again, e.g. its phone cannot be reached)."""

        def run() -> None:
            agent = self._offered(call_id)
            call = self.calls[call_id]
            del self.offers[call_id]
            self._release(agent)
            if decline:
                call.declined = call.declined | {agent.agent_id}
            if requeue:
                call.head = True
                self._place(call, match=False)
            else:
                del self.calls[call_id]
            # The agent chooses first: a call that arrived while it was reserved (an
            # emergency) may outrank this one; then this call looks for an agent.
            self._agent_free(agent)
            if requeue and call.waiting:
                self._find_agent(call)

        return self._run(run)

    def call_ended(self, call_id: str) -> list[RouterEvent]:
        """The call is over: its agent (if any) starts wrap-up; a waiting call is gone."""

        def run() -> None:
            if call_id in self.offers:
                agent = self._offered(call_id)
                del self.offers[call_id]
                del self.calls[call_id]
                self._release(agent)
                self._agent_free(agent)
                return
            call = self.calls.get(call_id)
            if call is not None and call.waiting and call.kind is not CallKind.CALLBACK:
                if call.kind is not CallKind.CAMPAIGN:
                    self.stats[call.queue].abandoned += 1  # a caller on the line hung up
                self._drop(call)
            agent_id = self.talking.pop(call_id, None)
            if agent_id is not None:
                self._start_wrap(self.agents[agent_id])

        return self._run(run)

    # -- call control from the desk (callcontrol/) ------------------------------------------

    def transferred_away(self, call_id: str) -> list[RouterEvent]:
        """The call's agent passed it on (a blind transfer: the caller is on its way back
        to a holding queue, where call.queued puts it in line again): wrap-up starts."""

        def run() -> None:
            agent_id = self.talking.pop(call_id, None)
            if agent_id is not None:
                self._start_wrap(self.agents[agent_id])

        return self._run(run)

    def transfer_to(
        self,
        call_id: str,
        agent_id: int,
        queue: str,
        *,
        priority: int,
        language: str | None = None,
        enqueued_at: float | None = None,
    ) -> list[RouterEvent]:
        """A blind transfer to a chosen agent: offered to that agent at once (screen-pop,
        then the dialplan rings it); its agent wraps up. Not answered: the caller waits in
        `queue` at the head of its priority like any unanswered offer. The target must be
        free (AgentNotFree otherwise, and nothing changes)."""
        plan = self.plan.queue(queue)
        target = self._agent(agent_id)
        if not target.offerable or call_id in self.calls:
            raise AgentNotFree(f"agent {target.extension} cannot take a call now")

        def run() -> None:
            previous = self.talking.pop(call_id, None)
            if previous is not None:
                self._start_wrap(self.agents[previous])
            self._seq += 1
            call = WaitingCall(
                call_id,
                plan.index,
                priority,
                language,
                enqueued_at=self._at if enqueued_at is None else enqueued_at,
                step_base=self._at,
                seq=self._seq,
                head=True,
                may_overflow=False,
            )
            self.calls[call_id] = call
            self._assign(call, target)

        return self._run(run)

    def hand_over(self, call_id: str, agent_id: int | None, queue: str) -> list[RouterEvent]:
        """An attended transfer completed (or the first agent left a conference): the
        call's agent wraps up, `agent_id` (if one of ours) is on the call from now."""

        def run() -> None:
            previous = self.talking.pop(call_id, None)
            if previous is not None and previous != agent_id:
                self._start_wrap(self.agents[previous])
            elif previous is not None:
                self.talking[call_id] = previous  # the same agent: nothing changes

        events = self._run(run)
        if agent_id is not None and call_id not in self.talking:
            events += self.adopt(call_id, agent_id, queue)
        return events

    # -- restarts ----------------------------------------------------------------------------

    def adopt(
        self, call_id: str, agent_id: int, queue: str, *, answered_at: float | None = None
    ) -> list[RouterEvent]:
        """Asterisk has this call bridged with the agent, and this router did not put them
        together: it was restarted (or lost the PBX link) meanwhile. The agent is on the
        call from now on (offered nothing else) and wraps up for `queue` when it ends,
        like any call it answered. An agent already busy with another call is left as it
        is (its phone's presence keeps it from being offered anything)."""
        plan = self.plan.queue(queue)

        def run() -> None:
            agent = self._agent(agent_id)
            if call_id in self.talking or call_id in self.offers:
                return  # known already (or being connected to someone: that goes on)
            if agent.call_id is not None or agent.state not in (
                AgentState.LOGGED_OUT,
                AgentState.AVAILABLE,
                AgentState.NOT_READY,
            ):
                return
            if agent.state is AgentState.NOT_READY:  # back to it after the wrap-up
                agent.pending_not_ready, agent.pending_reason = True, agent.reason
            if agent.state is not AgentState.AVAILABLE:
                agent.move(AgentState.AVAILABLE, self._at)
            call = self.calls.get(call_id)
            if call is not None:
                self._drop(call)  # it waited here: an agent has it now
            agent.move(AgentState.RESERVED, self._at)  # the transitions an answer takes
            self.talking[call_id] = agent.agent_id
            agent.call_id, agent.call_queue = call_id, plan.index
            agent.no_answers = 0
            agent.answered_at = self._at if answered_at is None else min(answered_at, self._at)
            self._move(agent, AgentState.ON_CALL)

        return self._run(run)

    # == requests about agents =========================================================

    # -- roster ------------------------------------------------------------------------

    def add_agent(
        self,
        agent_id: int,
        extension: str,
        skills: Mapping[str, int],
        languages: Iterable[str],
    ) -> list[RouterEvent]:
        """A new agent (logged out), or new details for a known one."""

        def run() -> None:
            agent = self.agents.get(agent_id)
            if agent is None:
                agent = Agent(agent_id, extension, dict(skills), frozenset(languages))
                agent.since = self._at
                self.agents[agent_id] = agent
            else:
                self.by_extension.pop(agent.extension, None)
                agent.extension = extension
            self.by_extension[extension] = agent
            self._reskill(agent, skills, languages)

        return self._run(run)

    def set_skills(
        self,
        agent_id: int,
        skills: Mapping[str, int],
        languages: Iterable[str] | None = None,
    ) -> list[RouterEvent]:
        """Live: the very next decision uses the new skills."""
        return self._run(lambda: self._reskill(self._agent(agent_id), skills, languages))

    def _reskill(
        self, agent: Agent, skills: Mapping[str, int], languages: Iterable[str] | None
    ) -> None:
        for skill, level in skills.items():
            if not 1 <= level <= 10:
                raise ValueError(f"skill {skill}: level {level} is not within 1..10")
        agent.skills = dict(skills)
        if languages is not None:
            agent.languages = frozenset(languages)
        agent.matches = self.plan.matches(agent.skills)
        agent.version += 1
        self._agent_free(agent)

    def set_presence(self, agent_id: int, presence: Presence) -> list[RouterEvent]:
        def run() -> None:
            agent = self._agent(agent_id)
            if agent.presence is presence:
                return
            agent.presence = presence
            agent.version += 1
            if (
                presence is Presence.ABSENT
                and agent.phone is not None
                and agent.state is AgentState.AVAILABLE
            ):
                # Its browser phone went away (page closed, connection lost): nothing
                # may be offered to it, and the agent sees why.
                self._move(agent, AgentState.NOT_READY, PHONE_OFFLINE)
                return
            self._agent_free(agent)

        return self._run(run)

    def set_phone(
        self, agent_id: int, phone: str | None, presence: Presence = Presence.UNKNOWN
    ) -> list[RouterEvent]:
        """The agent takes calls on `phone` (a dial string, e.g. its browser phone's
        PJSIP endpoint; None: the configured endpoint); `presence` is that device's
        state now."""

        def run() -> None:
            agent = self._agent(agent_id)
            agent.phone = phone
            agent.version += 1
            agent.presence = Presence.UNKNOWN

        self._run(run)
        return self.set_presence(agent_id, presence)

    # -- the agent's own commands ------------------------------------------------------------

    def login(self, agent_id: int, *, ready: bool = False) -> list[RouterEvent]:
        def run() -> None:
            agent = self._agent(agent_id)
            if agent.state is not AgentState.LOGGED_OUT:
                return  # already logged in: nothing changes
            agent.no_answers = 0
            if ready:
                self._move(agent, AgentState.AVAILABLE)
                self._agent_free(agent)
            else:
                self._move(agent, AgentState.NOT_READY)

        return self._run(run)

    def ready(self, agent_id: int) -> list[RouterEvent]:
        def run() -> None:
            agent = self._agent(agent_id)
            state = agent.state
            if agent.phone is not None and agent.presence is Presence.ABSENT:
                raise PhoneOffline(f"the phone of agent {agent.extension} is not registered")
            if state in (AgentState.RESERVED, AgentState.ON_CALL):
                if not agent.pending_not_ready:
                    raise IllegalTransition(agent.agent_id, state, AgentState.AVAILABLE)
                agent.pending_not_ready, agent.pending_reason = False, None
                return
            if state is AgentState.AVAILABLE:
                return
            agent.no_answers = 0
            if state is AgentState.WRAP_UP:
                self._end_wrap(agent, None)
                return
            self._move(agent, AgentState.AVAILABLE)
            self._agent_free(agent)

        return self._run(run)

    def not_ready(self, agent_id: int, reason: str) -> list[RouterEvent]:
        if reason not in self.plan.not_ready_reasons:
            raise UnknownReason(
                f"{reason!r} (known: {', '.join(sorted(self.plan.not_ready_reasons))})"
            )

        def run() -> None:
            agent = self._agent(agent_id)
            state = agent.state
            if state in (AgentState.RESERVED, AgentState.ON_CALL):
                agent.pending_not_ready, agent.pending_reason = True, reason
                return
            if state is AgentState.LOGGED_OUT:
                raise IllegalTransition(agent.agent_id, state, AgentState.NOT_READY)
            if state is AgentState.WRAP_UP:
                self._end_wrap(agent, None, release=False)
            self._move(agent, AgentState.NOT_READY, reason)

        return self._run(run)

    def logout(self, agent_id: int) -> list[RouterEvent]:
        def run() -> None:
            agent = self._agent(agent_id)
            if agent.state is AgentState.LOGGED_OUT:
                return
            if agent.state is AgentState.WRAP_UP:
                self._end_wrap(agent, None, release=False)
            self._move(agent, AgentState.LOGGED_OUT)

        return self._run(run)

    def wrap_done(self, agent_id: int, code: str | None = None) -> list[RouterEvent]:
        """The agent finished after-call work. After the wrap-up timer already ended it,
        a code still reaches the call log (the wrap-up is reported again with it)."""

        def run() -> None:
            agent = self._agent(agent_id)
            if agent.state is AgentState.WRAP_UP:
                self._end_wrap(agent, code)
            elif code and agent.last_wrap is not None:
                call_id, queue, seconds = agent.last_wrap
                agent.last_wrap = None
                ended = WrapUpEnded(agent.agent_id, call_id, queue, seconds, code, self._at)
                self._out.append(ended)
            else:
                raise IllegalTransition(agent.agent_id, agent.state, AgentState.AVAILABLE)

        return self._run(run)
