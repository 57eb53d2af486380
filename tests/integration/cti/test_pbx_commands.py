"""The PBX command port against the real Asterisk 22: each operation does what it says
or raises a typed error."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from cti.commands import ChannelNotFound, PbxRejected, SpyMode
from devtools.services.asterisk import AsteriskInstance
from tests.harness.cti import CtiStack
from tests.harness.stub_agi import IvrScript, stub_ivr
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["sqlite"])]


async def _waiting_channel(stack: CtiStack, linkedid: str) -> str:
    box: dict[str, str] = {}

    async def found() -> bool:
        for e in await stack.bridge.commands.queue_entries():
            if e.uniqueid.startswith(linkedid):
                box["c"] = e.channel
                return True
        return False

    await eventually(found, 15)
    return box["c"]


async def test_variables_recording_spy_and_hangup(
    cti_stack: CtiStack, asterisk: AsteriskInstance
) -> None:
    pbx = cti_stack.bridge.commands
    async with stub_ivr(asterisk.fastagi_port, IvrScript(skill="general")):
        linkedid = await cti_stack.call(hangup_after=30)
        channel = await _waiting_channel(cti_stack, linkedid)
        await pbx.redirect(channel, context="hotline-connect", exten="1003")
        await eventually(lambda: bool(cti_stack.bridge.tracker.calls[linkedid].agents), 10)

        await pbx.set_var(channel, "HOTLINE_NOTE", "燃气泄漏")
        assert await pbx.get_var(channel, "HOTLINE_NOTE") == "燃气泄漏"

        name = f"rec-{uuid.uuid4().hex[:8]}"
        path = f"{asterisk.asterisk_path(asterisk.monitor_dir)}/{name}.wav"
        await pbx.start_recording(channel, path)
        await pbx.pause_recording(channel, True)
        await pbx.pause_recording(channel, False)
        await asyncio.sleep(1.0)

        spy = await pbx.spy("Local/1009@hotline-test-agent", channel, SpyMode.WHISPER)
        assert spy.uniqueid.startswith("hlsp-")
        await asyncio.sleep(1.0)

        await pbx.stop_recording(channel)
        await pbx.hangup(channel)
        row = await cti_stack.wait_ended(linkedid)
    assert row["disposition"] == "answered"
    recording = asterisk.monitor_dir / f"{name}.wav"
    await eventually(lambda: recording.exists() and recording.stat().st_size > 1000, 10)


async def test_typed_errors(cti_stack: CtiStack) -> None:
    pbx = cti_stack.bridge.commands
    with pytest.raises(ChannelNotFound):
        await pbx.hangup("PJSIP/nobody-00000000")
    with pytest.raises(ChannelNotFound):
        await pbx.redirect("Local/none@nowhere-0;1", context="hotline-connect", exten="1001")
    with pytest.raises(PbxRejected):
        await pbx.queue_remove("hold-general", "Local/9999@hotline-test-agent")


async def test_queue_membership(cti_stack: CtiStack) -> None:
    pbx = cti_stack.bridge.commands
    member = "Local/1005@hotline-test-agent"
    await pbx.queue_add("hotline-overflow", member, member_name="agent05")
    await pbx.queue_pause(member, True, queue="hotline-overflow", reason="lunch")
    await pbx.queue_pause(member, False, queue="hotline-overflow")
    await pbx.queue_remove("hotline-overflow", member)
    with pytest.raises(PbxRejected):
        await pbx.queue_remove("hotline-overflow", member)
