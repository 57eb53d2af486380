"""One desktop, one bounded queue: a desktop that stops reading is disconnected (1013)
instead of holding anyone up; what it missed stays in the replay buffer."""

from __future__ import annotations

import asyncio
import json

from agent_api.auth import Principal
from db.models import Role
from desk.push.connection import CLOSE_TRY_AGAIN, AgentConnection
from desk.push.replay import Frame
from tests.support import eventually
from tests.unit.desk.fake_socket import FakeSocket

AGENT = Principal(7, "agent07", "王芳", Role.AGENT, "1007", "jti", 10**10)


def frame(seq: int, pop: str | None = None) -> Frame:
    return Frame(seq, f"call:0-{seq}", 0.0, text=f'{{"seq": {seq}}}', pop_call_id=pop)


async def test_given_a_reading_desktop_when_frames_are_pushed_then_all_arrive_in_order() -> None:
    ws = FakeSocket()
    sent_pops: list[str] = []

    def on_pop(conn: AgentConnection, f: Frame) -> None:
        assert f.pop_call_id is not None
        sent_pops.append(f.pop_call_id)

    conn = AgentConnection(ws, AGENT, on_pop_sent=on_pop, max_queue=4)  # type: ignore[arg-type]
    conn.start()
    for seq in range(1, 11):
        assert conn.push(frame(seq, pop="c1" if seq == 3 else None))
        await asyncio.sleep(0)  # the sender keeps up
    await eventually(lambda: len(ws.sent) == 10, 2, "all frames")
    assert [f["seq"] for f in ws.sent] == list(range(1, 11))
    assert sent_pops == ["c1"]
    await conn.stop()


async def test_given_a_stalled_desktop_when_its_queue_fills_then_it_is_closed_1013() -> None:
    ws = FakeSocket(stalled=True)

    def on_pop(conn: AgentConnection, f: Frame) -> None:
        return None

    conn = AgentConnection(ws, AGENT, on_pop_sent=on_pop, max_queue=3)  # type: ignore[arg-type]
    conn.start()
    assert conn.push(frame(1))
    await eventually(lambda: conn._queue.empty(), 1, "the sender takes frame 1 and stalls")
    assert [conn.push(frame(seq)) for seq in (2, 3, 4)] == [True, True, True]  # queue full
    assert conn.push(frame(5)) is False
    await eventually(lambda: ws.closed_with is not None, 2, "closed")
    assert ws.closed_with is not None
    assert ws.closed_with[0] == CLOSE_TRY_AGAIN
    assert conn.push(frame(9)) is False  # closing: nothing more is queued
    await conn.stop()


class SwallowingSocket(FakeSocket):
    """A send that eats one cancellation and returns, as redis-py 8 can do to a command
    cancelled mid-flight (the sender then went back to its queue and waited forever)."""

    async def send_text(self, text: str) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.sent.append(json.loads(text))


async def test_given_a_sender_that_swallows_a_cancel_when_stopped_then_stop_still_ends() -> None:
    ws = SwallowingSocket()
    conn = AgentConnection(ws, AGENT, on_pop_sent=lambda c, f: None, max_queue=4)  # type: ignore[arg-type]
    conn.start()
    assert conn.push(frame(1))
    await eventually(lambda: conn._queue.empty(), 1, "the sender takes frame 1")
    await asyncio.wait_for(conn.stop(), 5)
    assert conn.closed.is_set()
    assert ws.sent == [{"seq": 1}]
