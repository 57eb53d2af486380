"""Today's ended calls, packed into one bytes object each. Pure.

The live view keeps every call of the day that has ended, for two reasons only: a late
event (a wrap-up, a redelivered or corrected snapshot) must take the call's old share out
of the day's totals before adding the new one, and an older event must not bring it back.
A busy center ends hundreds of thousands of calls a day. As a `CallEntry` with its
datetimes, floats, strings and list, each cost about 700 bytes besides its key (the
60-minute soak grew by 0.35 MB a minute at 5.6 calls/s from these alone); packed, about
150 with its dict slot. The few distinct queues, dispositions, nodes and agent
extensions are kept once, in a table of names.

Round trip: `unpack(pack(e)) == e` for an ended entry, datetimes to the microsecond (kept
as UTC: every datetime here is aware).
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Iterator

from reports.metrics import CallFacts
from supervisor.call_entry import CallEntry

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICRO = dt.timedelta(microseconds=1)
_NONE = -(2**63)  # no such time
# seq, started, queued, answered, ended (µs), wait, talk, hold, wrap, transfers,
# queue, disposition, node (name numbers, 0 = None), flags, agents: 80 bytes.
_HEAD = struct.Struct("<qqqqqddddiHHHBB")
_NAME = struct.Struct("<H")
# flags
_QUEUED, _ANSWERED, _FCR_SET, _FCR, _CONFIRMED, _LOST = (1 << i for i in range(6))


class _Names:
    """Distinct short strings (queues, dispositions, nodes, extensions) numbered from 1."""

    def __init__(self) -> None:
        self.names: list[str] = [""]
        self.numbers: dict[str, int] = {}

    def number(self, name: str | None) -> int:
        if name is None:
            return 0
        found = self.numbers.get(name)
        if found is None:
            if len(self.names) > 0xFFFF:
                raise OverflowError("more than 65,535 distinct names")
            found = self.numbers[name] = len(self.names)
            self.names.append(name)
        return found

    def name(self, number: int) -> str | None:
        return None if number == 0 else self.names[number]


def _micros(value: dt.datetime | None) -> int:
    return _NONE if value is None else (value - _EPOCH) // _MICRO


def _time(micros: int) -> dt.datetime | None:
    return None if micros == _NONE else _EPOCH + dt.timedelta(microseconds=micros)


class EndedCalls:
    """Linkedid -> an ended call of the day, packed."""

    def __init__(self) -> None:
        self._calls: dict[str, bytes] = {}
        self._names = _Names()

    def __len__(self) -> int:
        return len(self._calls)

    def __contains__(self, linkedid: object) -> bool:
        return linkedid in self._calls

    def __iter__(self) -> Iterator[str]:
        return iter(self._calls)

    def put(self, entry: CallEntry) -> None:
        self._calls[entry.linkedid] = self.pack(entry)

    def get(self, linkedid: str) -> CallEntry | None:
        packed = self._calls.get(linkedid)
        return None if packed is None else self.unpack(linkedid, packed)

    def pop(self, linkedid: str) -> None:
        self._calls.pop(linkedid, None)

    def clear(self) -> None:
        self._calls.clear()
        self._names = _Names()

    def pack(self, e: CallEntry) -> bytes:
        f = e.facts
        if len(e.agents) > 0xFF:
            raise OverflowError("more than 255 agents on one call")
        flags = (
            (_QUEUED if f.queued else 0)
            | (_ANSWERED if f.answered else 0)
            | (_FCR_SET if f.first_contact_resolution is not None else 0)
            | (_FCR if f.first_contact_resolution else 0)
            | (_CONFIRMED if e.confirmed else 0)
            | (_LOST if e.lost else 0)
        )
        head = _HEAD.pack(
            e.seq,
            _micros(f.started_at),
            _micros(e.queued_at),
            _micros(e.answered_at),
            _micros(e.ended_at),
            f.wait_seconds,
            f.talk_seconds,
            f.hold_seconds,
            f.wrap_seconds,
            f.transfers,
            self._names.number(f.queue),
            self._names.number(f.disposition),
            self._names.number(e.node),
            flags,
            len(e.agents),
        )
        agents = b"".join(_NAME.pack(self._names.number(a)) for a in e.agents)
        return head + agents + e.caller_number.encode()

    def unpack(self, linkedid: str, packed: bytes) -> CallEntry:
        (seq, started, queued, answered, ended, wait, talk, hold, wrap, transfers, queue,
         disposition, node, flags, count) = _HEAD.unpack_from(packed)  # fmt: skip
        at = _HEAD.size
        agents = [self._names.names[_NAME.unpack_from(packed, at + 2 * i)[0]] for i in range(count)]
        started_at = _time(started)
        assert started_at is not None
        return CallEntry(
            linkedid=linkedid,
            seq=seq,
            facts=CallFacts(
                started_at=started_at,
                queue=self._names.name(queue),
                queued=bool(flags & _QUEUED),
                answered=bool(flags & _ANSWERED),
                disposition=self._names.name(disposition) or "",
                wait_seconds=wait,
                talk_seconds=talk,
                hold_seconds=hold,
                wrap_seconds=wrap,
                transfers=transfers,
                first_contact_resolution=bool(flags & _FCR) if flags & _FCR_SET else None,
            ),
            ended=True,
            queued_at=_time(queued),
            answered_at=_time(answered),
            ended_at=_time(ended),
            caller_number=packed[at + 2 * count :].decode(),
            agents=agents,
            confirmed=bool(flags & _CONFIRMED),
            lost=bool(flags & _LOST),
            node=self._names.name(node),
        )
