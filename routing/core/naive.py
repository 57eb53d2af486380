"""The same policy as routing/core/selection.py, answered by scanning everything. Pure.

The reference the indexed selector is checked against (tests, bench/routing.py): every
question looks at every agent or every waiting call and evaluates the step targets
afresh. Identical decisions, by construction of the same total orders.
"""

from __future__ import annotations

from collections.abc import Mapping

from routing.core.model import Agent, WaitingCall
from routing.core.plan import RoutingPlan


class NaiveSelector:
    def __init__(
        self,
        plan: RoutingPlan,
        agents: Mapping[int, Agent],
        calls: Mapping[str, WaitingCall],
    ) -> None:
        self.plan = plan
        self._agents = agents
        self._calls = calls

    def agent_changed(self, agent: Agent) -> None:
        pass

    def call_changed(self, call: WaitingCall) -> None:
        pass

    def _rank(self, agent: Agent, call: WaitingCall) -> tuple[int, int] | None:
        """(first matching step, -level) if the agent may take the call now."""
        if call.language is not None and call.language not in agent.languages:
            return None
        if agent.agent_id in call.declined:
            return None
        steps = self.plan.queues[call.queue].steps
        for i, step in enumerate(steps[: call.step + 1]):
            if step.target(agent.skills):
                return i, -step.level(agent.skills)
        return None

    def best_agent_for(self, call: WaitingCall) -> Agent | None:
        best: tuple[int, int, float, int] | None = None
        chosen = None
        for agent in self._agents.values():
            if not agent.offerable:
                continue
            rank = self._rank(agent, call)
            if rank is None:
                continue
            key = (*rank, agent.idle_since, agent.agent_id)
            if best is None or key < best:
                best, chosen = key, agent
        return chosen

    def best_call_for(self, agent: Agent) -> WaitingCall | None:
        best: tuple[int, int, float, int] | None = None
        chosen = None
        for call in self._calls.values():
            if not call.waiting or self._rank(agent, call) is None:
                continue
            key = call.order_key()
            if best is None or key < best:
                best, chosen = key, call
        return chosen
