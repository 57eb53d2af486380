"""A reconnecting desktop gets exactly what it missed, or is told about a gap."""

from __future__ import annotations

from desk.push.replay import Frame, ReplayBuffer


def filled(n: int, *, max_frames: int = 100, max_age: float = 300.0) -> ReplayBuffer:
    ring = ReplayBuffer(max_frames=max_frames, max_age=max_age)
    for i in range(1, n + 1):
        ring.append(Frame(ring.next_seq(), f"call:0-{i}", at=float(i), text=f"f{i}"))
    return ring


def test_given_frames_when_resuming_after_seq_then_the_rest_in_order() -> None:
    ring = filled(10)
    frames, complete = ring.after(7, now=10)
    assert [f.seq for f in frames] == [8, 9, 10]
    assert complete


def test_given_a_client_up_to_date_when_resuming_then_nothing_and_complete() -> None:
    frames, complete = filled(5).after(5, now=5)
    assert frames == []
    assert complete


def test_given_frames_beyond_the_window_when_resuming_then_what_is_left_and_a_gap() -> None:
    ring = filled(10, max_frames=4)
    frames, complete = ring.after(3, now=10)
    assert [f.seq for f in frames] == [7, 8, 9, 10]
    assert not complete
    frames, complete = ring.after(6, now=10)
    assert complete


def test_given_old_frames_when_they_age_out_then_they_are_not_replayed_but_seq_continues() -> None:
    ring = filled(5, max_age=2.5)
    frames, _ = ring.after(0, now=5)
    assert [f.seq for f in frames] == [3, 4, 5]
    ring.prune(now=100)
    assert ring.idle(now=100)
    assert ring.next_seq() == 6  # numbering never restarts within an epoch


async def test_given_a_lazy_frame_when_sent_then_rendered_once() -> None:
    calls = 0

    async def render() -> str:
        nonlocal calls
        calls += 1
        return "pop"

    frame = Frame(1, "offer:0-1", 0.0, render=render)
    assert await frame.payload() == "pop"
    assert await frame.payload() == "pop"
    assert calls == 1


def test_given_a_connected_agent_who_never_resumes_then_old_frames_still_leave() -> None:
    # Only new frames arrive (no reconnect asks for a replay): the window by age holds
    # anyway, so hundreds of agents do not each keep max_frames screen-pops for good.
    ring = filled(1000, max_frames=512, max_age=10.0)
    assert [f.seq for f in ring.frames] == list(range(990, 1001))
    assert ring.next_seq() == 1001
