"""The routing core as one object: the frame (routing/core/frame.py) with the call and
agent requests. Pure and deterministic: build it from a RoutingPlan and a Clock.

    router = Router(RoutingPlan.from_settings(settings), clock)
    router.add_agent(7, "1001", {"billing": 8}, ["zh"]); router.login(7, ready=True)
    events = router.enqueue("1763800000.12", "billing", priority=30)   # -> [AgentChanged, Offer]

`naive=True` answers every question by scanning everything (the reference the indexed
selection is checked against).
"""

from __future__ import annotations

from routing.core.agent_commands import AgentCommands
from routing.core.call_commands import CallCommands


class Router(CallCommands, AgentCommands):
    pass
