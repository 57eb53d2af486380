"""Per-agent replay buffer: the frames an agent's desktop was sent recently, numbered.

Each frame gets the next sequence number of its agent. A desktop that reconnects says
the last number it saw; it is sent everything after it that is still in the window (the
newest `max_frames`, none older than `max_age` seconds). Frames are kept as rendered
text, except screen-pops for an agent who had no desktop connected here: those are
rendered (enriched) only if someone asks for them, through `render`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Render = Callable[[], Awaitable[str]]


@dataclass(slots=True)
class Frame:
    seq: int
    id: str  # stable across API workers (derived from the bus message id)
    at: float
    text: str | None = None
    render: Render | None = None  # when text is None
    pop_call_id: str | None = None  # a screen-pop: delivery is acknowledged to the router

    async def payload(self) -> str:
        if self.text is None:
            assert self.render is not None
            self.text = await self.render()
            self.render = None
        return self.text


class ReplayBuffer:
    def __init__(self, max_frames: int = 512, max_age: float = 300.0) -> None:
        self.max_frames = max_frames
        self.max_age = max_age
        self.frames: deque[Frame] = deque()
        self.last_seq = 0

    def append(self, frame: Frame) -> None:
        self.frames.append(frame)
        self.last_seq = frame.seq
        while len(self.frames) > self.max_frames:
            self.frames.popleft()
        # Pruned by age here too, not only when a desktop reconnects: an agent who
        # stays connected never asks, and each of hundreds of agents kept its newest
        # 512 frames (screen-pops with the customer's file) for good -- the backend's
        # memory grew ~5 MB a minute in bench/capacity.py's soak.
        self.prune(frame.at)

    def next_seq(self) -> int:
        return self.last_seq + 1

    def prune(self, now: float) -> None:
        while self.frames and self.frames[0].at < now - self.max_age:
            self.frames.popleft()

    def after(self, seq: int, now: float) -> tuple[list[Frame], bool]:
        """Frames newer than `seq`, and whether that is complete (False: some frames the
        client missed already left the window, so it also gets a gap notice)."""
        self.prune(now)
        newer = [f for f in self.frames if f.seq > seq]
        oldest = self.frames[0].seq if self.frames else self.last_seq + 1
        complete = seq >= oldest - 1 or seq >= self.last_seq
        return newer, complete

    def idle(self, now: float) -> bool:
        self.prune(now)
        return not self.frames
