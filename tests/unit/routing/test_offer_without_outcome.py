"""An offer Asterisk never reports on (no DialEnd, no answer, no hang-up) within the ring
time: the router gives up on it, and that is nobody's fault. Asterisk's Dial always ends
with an outcome, so silence means a PBX too busy to report in time; counted as the
agent's no-answer it paused agent after agent while the PBX was overloaded
(bench/capacity.py soak: 58 of 153 agents paused, the line collapsed)."""

from __future__ import annotations

import pytest

from routing.pbx import connector
from tests.support import eventually
from tests.unit.routing.test_adapter_flow import channel, queue
from tests.unit.routing.world import world


@pytest.mark.parametrize("db_backend", ["sqlite"])
async def test_given_an_offer_without_outcome_then_the_agent_is_not_paused_for_it(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connector, "WATCHDOG_MARGIN", 0.2)
    # max_no_answer 1: a single no-answer would pause the agent.
    async with world(db_url, offer_timeout_seconds=1, max_no_answer_before_pause=1) as w:
        await w.router.login(w.agent_id, ready=True)
        await queue(w, "t-1", "C", 1)
        await eventually(lambda: w.redirected() == [channel(1)], 5, "the caller redirected")
        assert w.router.agent(w.agent_id)["state"] == "reserved"

        def given_up() -> bool:
            agent = w.router.agent(w.agent_id)
            return agent["state"] == "available" and len(w.router.waiting_calls()) == 1

        # Asterisk says nothing: past the ring time and the margin the offer is given up.
        await eventually(given_up, 5, "the offer given up, the agent free")
        agent = w.router.agent(w.agent_id)
        assert agent["no_answers"] == 0
        assert agent["reason"] is None
        # The caller keeps its place at the head of the line, not offered to this agent
        # again; a second agent would take it.
        (waiting,) = w.router.waiting_calls()
        assert waiting["call_id"] == "t-1"
        assert w.redirected() == [channel(1)]
