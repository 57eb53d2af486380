"""Which files a process opens in a directory, seen from outside (Linux inotify, IN_OPEN).

The sandbox Asterisk runs chrooted on this machine, so its opens of a host directory
(its sounds, for instance) are visible here: what a caller heard is the file Asterisk
opened, whatever names the dialplan used.

    with FileOpens(sounds / "zh", sounds / "en") as opens:
        ...
        assert "zh/hold_next.wav" in opens.seen()
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
from pathlib import Path
from types import TracebackType

IN_OPEN = 0x00000020
_EVENT = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len (then the name)


class FileOpens:
    def __init__(self, *directories: Path) -> None:
        self._libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self._dirs = directories
        self._fd = -1
        self._names: dict[int, str] = {}  # watch descriptor -> directory name
        self.opened: list[str] = []  # "<directory name>/<file name>", in order

    def __enter__(self) -> FileOpens:
        self._fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        for d in self._dirs:
            d.mkdir(parents=True, exist_ok=True)
            wd = self._libc.inotify_add_watch(self._fd, str(d).encode(), IN_OPEN)
            if wd < 0:
                raise OSError(ctypes.get_errno(), f"inotify_add_watch {d}")
            self._names[wd] = d.name
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        os.close(self._fd)

    def seen(self) -> list[str]:
        """Every open reported so far (reads what is pending, never blocks)."""
        while True:
            try:
                data = os.read(self._fd, 65536)
            except OSError as exc:
                if exc.errno == errno.EAGAIN:
                    return list(self.opened)
                raise
            offset = 0
            while offset < len(data):
                wd, _mask, _cookie, size = _EVENT.unpack_from(data, offset)
                offset += _EVENT.size
                name = data[offset : offset + size].rstrip(b"\0").decode()
                offset += size
                if name:
                    self.opened.append(f"{self._names.get(wd, '?')}/{name}")
