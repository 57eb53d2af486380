"""Closing the AMI client while its login hook (the resync) is in flight: the close must
end, whatever loop iteration the last answer lands in.

The case that hung a test run's teardown for 25 minutes: the resync's answer had been
read (the action's future resolved) but the consumer task had not resumed yet when
close() cancelled it. asyncio.wait_for before Python 3.12 returns the finished result in
that case and drops the cancellation, so the consumer went back to waiting on its queue
and close() awaited it forever.
"""

from __future__ import annotations

import asyncio

from cti.ami.client import AmiClient, AmiResponse, _Pending
from tests.harness.fake_ami_server import fake_ami
from tests.support import eventually


async def test_given_close_right_after_the_resync_answer_arrives_then_close_ends() -> None:
    async with fake_ami() as server:
        closing: list[asyncio.Task[None]] = []
        resync_done = asyncio.Event()

        async def resync() -> None:
            await client.send("CoreShowChannels")
            resync_done.set()

        client = AmiClient(
            host="127.0.0.1",
            port=server.port,
            username="u",
            secret="s",
            on_event=lambda f: None,
            on_login=resync,
            ping_interval=30,
        )
        resolve = AmiClient._resolve

        def resolve_then_close(pending: _Pending, response: AmiResponse) -> None:
            # The answer is in; close() runs before the consumer task resumes.
            resolve(pending, response)
            if pending.action == "CoreShowChannels" and not closing:
                closing.append(asyncio.create_task(client.close()))

        client._resolve = resolve_then_close  # type: ignore[method-assign]
        client.start()
        await client.wait_ready(5)
        await eventually(lambda: bool(closing), 5, "the resync's answer")
        done, _ = await asyncio.wait(closing, timeout=10)
        assert done, "AmiClient.close() did not end: a cancellation was swallowed"
        assert not resync_done.is_set(), "the consumer went on after close()"
