"""A caller who hangs up just as an agent is found. Asterisk then refuses the Redirect
with "Redirect failed, channel not up." (the channel is still listed, but hanging up).
That answer means the caller is gone, like "No such channel". Taken as a refusal, it
sent that caller to agent after agent: about 24,000 refused redirects at 15 calls/s in
bench/capacity.py, with the backend's memory growing."""

from __future__ import annotations

from typing import Any

import pytest

from cti.ami.errors import AmiActionFailed
from cti.commands import AmiPbxCommands, ChannelInfo, ChannelNotFound, PbxRejected
from tests.support import eventually
from tests.unit.routing.test_adapter_flow import channel, queue
from tests.unit.routing.world import world


class RefusingAmi:
    """An AMI client stand-in that answers every action with `Response: Error`."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.ready = True

    async def send(self, action: str, headers: dict[str, Any] | None = None) -> Any:
        raise AmiActionFailed(action, {"Response": "Error", "Message": self.message})


@pytest.mark.parametrize(
    "message",
    [
        "Redirect failed, channel not up.",
        "Redirect failed, extra channel not up.",
        "No such channel",
        "Channel does not exist: PJSIP/2001-00000001",
    ],
)
async def test_a_channel_hanging_up_is_a_channel_gone(message: str) -> None:
    pbx = AmiPbxCommands(RefusingAmi(message))  # type: ignore[arg-type]
    with pytest.raises(ChannelNotFound):
        await pbx.redirect("PJSIP/1-1", context="hotline-connect", exten="1001")


async def test_another_refusal_stays_a_refusal() -> None:
    pbx = AmiPbxCommands(RefusingAmi("Permission denied"))  # type: ignore[arg-type]
    with pytest.raises(PbxRejected) as refused:
        await pbx.redirect("PJSIP/1-1", context="hotline-connect", exten="1001")
    assert not isinstance(refused.value, ChannelNotFound)
    assert refused.value.reason == "Permission denied"


@pytest.mark.parametrize("db_backend", ["sqlite"])
async def test_given_the_callers_channel_hanging_up_then_it_is_offered_once_not_agent_after_agent(
    db_url: str,
) -> None:
    async with world(db_url) as w:
        hanging = channel(1)
        # Still in Asterisk's channel list (the hang-up is under way), but every command
        # on it fails as gone.
        w.pbx.live.append(
            ChannelInfo("t-1", "t-1", hanging, "hotline-queue", "s", "Up", "Queue", "", "3")
        )
        w.pbx.gone_channels.add(hanging)
        tried: list[str] = []
        redirect = w.pbx.redirect

        async def counted(ch: str, **kw: Any) -> None:
            tried.append(ch)
            await redirect(ch, **kw)

        w.pbx.redirect = counted  # type: ignore[method-assign, assignment]
        await w.router.login(w.agent_id, ready=True)
        await queue(w, "t-1", "C", 1)

        def settled() -> bool:
            agent = w.router.agent(w.agent_id)
            return bool(tried) and agent["state"] == "available" and not w.router.waiting_calls()

        await eventually(settled, 5, f"the gone caller out of line, the agent free ({tried})")
        # Once, then once more on a fresh look at the channel list: no third try, and the
        # agent is not counted as declining or failing.
        assert tried == [hanging, hanging]
        agent = w.router.agent(w.agent_id)
        assert agent["no_answers"] == 0
