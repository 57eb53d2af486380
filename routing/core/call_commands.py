"""Requests about calls: a caller queues, leaves, asks for a callback; an offer is
answered, not answered or cancelled; a call ends; deciding stops and resumes while the
PBX is away. Pure (see routing/core/frame.py)."""

from __future__ import annotations

from routing.core.frame import RouterCore
from routing.core.model import Agent, AgentState, CallKind, RouterEvent, WaitingCall


class CallCommands(RouterCore):
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
                self.stats[call.queue].abandoned += 1  # a caller on the line hung up
                self._drop(call)
            agent_id = self.talking.pop(call_id, None)
            if agent_id is not None:
                self._start_wrap(self.agents[agent_id])

        return self._run(run)

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
