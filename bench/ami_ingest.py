"""AMI ingest benchmark: Hotline's full bridge path vs panoramisk's bare parser.

    .venv/bin/python bench/ami_ingest.py [--repeat N] [--rounds R]

Input: the recorded real Asterisk 22 traces in tests/fixtures/ami (recorded with a
read=all account, so the realistic VarSet/Newexten-heavy mix), concatenated N times with
the channel ids made unique per copy, and cut into chunks cycling through the recorded
TCP read sizes. Both contenders get exactly the same chunks:
  - Hotline: FrameParser (bytes, decoded per message) -> CallTracker -> domain events
    published on the in-process bus (one fan-out subscriber drained as it goes);
  - panoramisk 1.4: AMIProtocol.data_received (decode per read, split, Message objects,
    dispatch to a no-op), i.e. parsing alone.
Prints events/s for both and the ratio (target: Hotline >= panoramisk, >= 50,000 ev/s).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import statistics
import sys
import time
from pathlib import Path

from kernel import topics

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from panoramisk.ami_protocol import AMIProtocol  # noqa: E402

from cti.ami.frames import FrameParser  # noqa: E402
from cti.ami.trace import read_trace  # noqa: E402
from cti.tracking.tracker import CallTracker  # noqa: E402
from kernel.bus.memory import MemoryBus  # noqa: E402

TRACES = REPO / "tests" / "fixtures" / "ami"
_IDS = re.compile(
    rb"^((?:Dest|Transferer|Transferee|OrigTransferer|SecondTransferer|Spyer|Spyee)?"
    rb"(?:Uniqueid|Linkedid)): (\S+)\r$",
    re.M,
)


def workload(repeat: int) -> tuple[list[bytes], int]:
    reads: list[list[bytes]] = [read_trace(p) for p in sorted(TRACES.glob("*.trace"))]
    sizes = [len(r) for trace in reads for r in trace]
    streams = [b"".join(trace) for trace in reads]
    greeting, body = b"Asterisk Call Manager/11.0.0\r\n", bytearray()
    for n in range(repeat):
        suffix = f"-r{n}".encode()
        for s in streams:
            s = s.replace(b"Asterisk Call Manager/11.0.0\r\n", b"")
            body += _IDS.sub(rb"\1: \2" + suffix + rb"\r", s)
    data = greeting + bytes(body)
    chunks, pos, i = [], 0, 0
    while pos < len(data):
        size = sizes[i % len(sizes)]
        chunks.append(data[pos : pos + size])
        pos += size
        i += 1
    frames = data.count(b"\r\n\r\n")
    return chunks, frames


async def run_hotline(chunks: list[bytes]) -> tuple[float, int]:
    bus = MemoryBus()
    sub = await bus.subscribe(topics.CALL, buffer=1_000_000)
    tracker = CallTracker()
    parser = FrameParser(tracker.wanted_events)
    published = 0
    start = time.perf_counter()
    for chunk in chunks:
        for frame in parser.feed(chunk):
            for event in tracker.handle(frame):
                await bus.publish(topics.CALL, event)
                published += 1
        while True:  # the subscriber keeps up, as the call log would
            try:
                await sub.get(timeout=0)
            except TimeoutError:
                break
    elapsed = time.perf_counter() - start
    await bus.close()
    return elapsed, published


class _NullFactory:
    save_stream = None

    def dispatch(self, message: object) -> None:
        pass


def run_panoramisk(chunks: list[bytes]) -> float:
    proto = AMIProtocol()
    proto.connection_made(transport=None)
    proto.factory = _NullFactory()
    proto.encoding = "utf8"
    start = time.perf_counter()
    for chunk in chunks:
        proto.data_received(chunk)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeat", type=int, default=40, help="copies of the recorded traces")
    ap.add_argument("--rounds", type=int, default=5, help="alternating timed rounds")
    args = ap.parse_args()
    chunks, frames = workload(args.repeat)
    mb = sum(map(len, chunks)) / 1e6
    print(f"workload: {frames:,} AMI frames, {len(chunks):,} reads, {mb:.1f} MB")
    ours, theirs, published = [], [], 0
    for _ in range(args.rounds):  # alternate, so machine noise hits both alike
        gc.collect()
        t, published = asyncio.run(run_hotline(chunks))
        ours.append(t)
        gc.collect()
        theirs.append(run_panoramisk(chunks))
    t_ours, t_theirs = statistics.median(ours), statistics.median(theirs)
    print(f"domain events published per run: {published:,}")
    print(f"hotline full path (parse+track+bus): {frames / t_ours:12,.0f} events/s")
    print(f"panoramisk parser alone:             {frames / t_theirs:12,.0f} events/s")
    print(f"ratio hotline/panoramisk: {t_theirs / t_ours:.2f}  (target >= 1.0; >= 50,000 ev/s)")


if __name__ == "__main__":
    main()
