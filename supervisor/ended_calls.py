"""Today's ended calls, packed into one buffer. Pure.

The live view keeps every call of the day that has ended, for two reasons only: a late
event (a wrap-up, a redelivered or corrected snapshot) must take the call's old share out
of the day's totals before adding the new one, and an older event must not bring it back.
A busy center ends hundreds of thousands of calls a day. As a `CallEntry` with its
datetimes, floats, strings and list, each cost about 700 bytes besides its key (the
60-minute soak grew by 0.35 MB a minute at 5.6 calls/s from these alone); packed, about
150 with its share of the index. The few distinct queues, dispositions, nodes and agent
extensions are kept once, in a table of names.

Round trip: `unpack(pack(e)) == e` for an ended entry, datetimes to the microsecond (kept
as UTC: every datetime here is aware).
"""

from __future__ import annotations

import datetime as dt
import struct
from array import array
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
# EndedCalls' records and table
_RECORD = struct.Struct("<HI")  # the Linkedid's bytes, the packed call's bytes; then both
_EMPTY, _DROPPED = -1, -2  # a slot never used, a slot whose record was dropped
_MIN_SLOTS = 1024  # a power of two: a slot is the hash masked
_COMPACT_AFTER = 64 * 1024  # dead bytes below this are not worth a copy


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
    """Linkedid -> an ended call of the day, packed.

    No Python object per call: every record (its Linkedid, then the packed call) is
    appended to one bytearray, and the index is an open-addressing hash table in two
    arrays (record offsets and the Linkedids' hashes). A record that is replaced or
    dropped leaves dead bytes, compacted away once they are half of the buffer.
    Why not a dict of bytes: those two small objects per call live all day among the
    many short-lived ones a call makes, and each can keep the allocator's page it sits
    in from being given back (pymalloc frees an arena only when all of it is free). The
    SQLite soak's heap kept growing after every bounded window had filled, with Python's
    block count flat; how much of that these objects caused is not measured.
    """

    def __init__(self, *, min_slots: int = _MIN_SLOTS, compact_after: int = _COMPACT_AFTER) -> None:
        if min_slots < 1 or min_slots & (min_slots - 1):
            raise ValueError("min_slots must be a power of two")
        self._min_slots = min_slots
        self._compact_after = compact_after
        self._names = _Names()
        self._reset(min_slots)

    def _reset(self, slots: int) -> None:
        self._data = bytearray()
        self._offsets = array("q", [_EMPTY]) * slots
        self._hashes = array("q", [0]) * slots
        self._live = 0
        self._filled = 0  # slots ever used since the last rebuild: live + dropped
        self._dead = 0  # bytes of _data no slot points at

    def __len__(self) -> int:
        return self._live

    @property
    def footprint(self) -> int:
        """Bytes of the buffer and the table."""
        return len(self._data) + len(self._offsets) * 16

    def __contains__(self, linkedid: object) -> bool:
        return isinstance(linkedid, str) and self._find(linkedid, hash(linkedid)) >= 0

    def __iter__(self) -> Iterator[str]:
        """Linkedids, oldest record first."""
        for at in sorted(o for o in self._offsets if o >= 0):
            yield self._key_at(at)

    def put(self, entry: CallEntry) -> None:
        key = entry.linkedid
        h = hash(key)
        found = self._find(key, h)
        if found < 0 and (self._filled + 1) * 2 > len(self._offsets):  # half full
            self._rebuild(self._slots_for(self._live + 1))
        at = len(self._data)
        key_bytes = key.encode()
        body = self.pack(entry)
        self._data += _RECORD.pack(len(key_bytes), len(body))
        self._data += key_bytes
        self._data += body
        if found < 0:
            self._insert(at, h)
            self._live += 1
            return
        self._dead += self._size_at(self._offsets[found])
        self._offsets[found] = at
        self._compact_if_sparse()

    def get(self, linkedid: str) -> CallEntry | None:
        found = self._find(linkedid, hash(linkedid))
        if found < 0:
            return None
        at = self._offsets[found]
        key_len, body_len = _RECORD.unpack_from(self._data, at)
        start = at + _RECORD.size + key_len
        return self.unpack(linkedid, bytes(self._data[start : start + body_len]))

    def pop(self, linkedid: str) -> None:
        found = self._find(linkedid, hash(linkedid))
        if found < 0:
            return
        self._dead += self._size_at(self._offsets[found])
        self._offsets[found] = _DROPPED
        self._live -= 1
        self._compact_if_sparse()

    def clear(self) -> None:
        self._names = _Names()
        self._reset(self._min_slots)

    # -- the table -----------------------------------------------------------------------

    def _find(self, key: str, h: int) -> int:
        """The slot that holds `key`, or -1."""
        offsets, hashes = self._offsets, self._hashes
        mask = len(offsets) - 1
        i = h & mask
        while (at := offsets[i]) != _EMPTY:
            if at >= 0 and hashes[i] == h and self._key_at(at) == key:
                return i
            i = (i + 1) & mask
        return -1

    def _insert(self, at: int, h: int) -> None:
        offsets = self._offsets
        mask = len(offsets) - 1
        i = h & mask
        while offsets[i] >= 0:
            i = (i + 1) & mask
        if offsets[i] == _EMPTY:
            self._filled += 1
        offsets[i] = at
        self._hashes[i] = h

    def _key_at(self, at: int) -> str:
        key_len = _RECORD.unpack_from(self._data, at)[0]
        start = at + _RECORD.size
        return self._data[start : start + key_len].decode()

    def _size_at(self, at: int) -> int:
        key_len, body_len = _RECORD.unpack_from(self._data, at)
        return int(_RECORD.size + key_len + body_len)

    def _slots_for(self, live: int) -> int:
        """A table a quarter full at most: room to grow before the next rebuild."""
        slots = self._min_slots
        while slots < live * 4:
            slots *= 2
        return slots

    def _compact_if_sparse(self) -> None:
        if self._dead > self._compact_after and self._dead * 2 > len(self._data):
            self._rebuild(self._slots_for(self._live))

    def _rebuild(self, slots: int) -> None:
        """A new table of `slots` without the dropped slots, and the live records copied
        into a new buffer, oldest first."""
        live = sorted((at, h) for at, h in zip(self._offsets, self._hashes, strict=True) if at >= 0)
        data = self._data
        self._reset(slots)
        for at, h in live:
            size = _RECORD.size + sum(_RECORD.unpack_from(data, at))
            self._insert(len(self._data), h)
            self._data += data[at : at + size]
        self._live = len(live)

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
