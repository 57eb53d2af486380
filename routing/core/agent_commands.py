"""What an agent (through the agent API) or its phone can do to the routing core. Pure
(the frame, state moves and matching are routing/core/frame.py's).

Transitions follow routing.core.model.TRANSITIONS; asking for not-ready while reserved or on
a call is remembered and applied when the wrap-up ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from routing.core.frame import RouterCore
from routing.core.model import (
    Agent,
    AgentState,
    IllegalTransition,
    Presence,
    RouterEvent,
    UnknownReason,
    WrapUpEnded,
)

NO_ANSWER = "no_answer"


class AgentCommands(RouterCore):
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
            self._agent_free(agent)

        return self._run(run)

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
