"""A caller pre-routed (the router chose an agent while the IVR still talked) on a node
that stops answering: the agent is not held for it. Before, the failed channel lookup
was taken as "the holding queue will do" and the agent stayed reserved for the
pre-routing margin (70 s and more) while callers on the other node waited
(tests/integration/hotline/test_two_nodes.py failed so in CI when the node froze just
before its caller reached the holding queue)."""

from __future__ import annotations

import json
import time

import pytest

from cti.nodes import NodesPbx
from tests.support import eventually
from tests.unit.cti.test_several_nodes import Link, Node
from tests.unit.routing.test_adapter_flow import channel
from tests.unit.routing.world import World, world

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"])
NODES = json.dumps([{"name": "na", "ami": {"port": 25038}}, {"name": "nb", "ami": {"port": 25039}}])


async def pre_routed(w: World, call_id: str, node: str) -> None:
    """The IVR chose the billing queue; the caller is not in its holding queue yet."""
    await w.publish(
        "call.ivr_completed",
        call_id=call_id,
        pbx_node=node,
        call={"ivr_outcome": "queue", "skill": "billing", "tier": "C", "language": "zh"},
    )


async def queued(w: World, call_id: str, node: str, n: int) -> None:
    await w.publish(
        "call.queued",
        call_id=call_id,
        pbx_node=node,
        queue="hold-billing",
        channel=channel(n),
        uniqueid=call_id,
        call={"skill": "billing", "tier": "C", "language": "zh", "queued_at": time.time()},
    )


async def test_a_caller_pre_routed_on_a_node_away_does_not_hold_the_agent(db_url: str) -> None:
    na, nb = Node("na"), Node("nb")
    async with world(db_url, pbx=NodesPbx([na, nb]), env={"HOTLINE_PBX__NODES": NODES}) as w:
        await pre_routed(w, "nb-1", "nb")
        await eventually(lambda: len(w.router.waiting_calls()) == 1, 5, "nb's caller in line")
        nb.commands.away, nb.client = True, Link(ready=False)  # nb stops answering

        await w.router.login(w.agent_id, ready=True)

        def agent_free() -> bool:
            state = w.router.agent(w.agent_id)["state"]
            return state == "available" and not w.router.waiting_calls()

        # The offer fails at once (not after the pre-routing margin): nb's caller is left
        # to nb's holding queue, out of the router's line until nb's resync; the agent is
        # free again, not paused, and takes na's caller.
        await eventually(agent_free, 5, "the agent free, nb's caller out of the line")
        assert w.router.agent(w.agent_id)["no_answers"] == 0
        await queued(w, "na-1", "na", 2)
        await eventually(
            lambda: (
                [a["channel"] for n, a in na.commands.commands if n == "redirect"] == [channel(2)]
            ),
            5,
            "na's caller connected to the agent",
        )
        assert "redirect" not in nb.commands.names()
