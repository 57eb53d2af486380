"""Where the sandbox's Asterisk 22 comes from: the host's own, or a cached Debian sid root.

Debian 12 has no asterisk package; sid has 22.x. `ensure_root()` builds a minimal sid
root with debootstrap once per machine (about a minute), caches it under
`cache_dir()/asterisk-sid`, and reuses it while its package list is unchanged. Builders
take a file lock and build into a temporary directory that is renamed into place, so a
crashed or concurrent build never leaves a half root behind. Asterisk runs inside with
`chroot`; /proc is mounted while at least one Asterisk of the root runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from devtools.services.net import cache_dir

SUITE = "sid"
# asterisk-moh-opsound-gsm: music on hold; sip-tester: SIPp; python3: classic AGI scripts.
PACKAGES = (
    "asterisk",
    "asterisk-core-sounds-en-gsm",
    "asterisk-moh-opsound-gsm",
    "sip-tester",
    "python3",
)
ROOT_FORMAT = 1  # bump when the post-build steps change
STAMP = ".hotline-root.json"
ROOT_NAME = "asterisk-sid"
DEFAULT_MIRROR = "http://deb.debian.org/debian"

Progress = Callable[[str], None]


class RootError(RuntimeError):
    """The Asterisk root cannot be built or used; the message says what to do."""


@dataclass(frozen=True)
class AsteriskRoot:
    """An Asterisk installation: a chroot directory (`path`), or the host (`path` None)."""

    path: Path | None
    user: str | None  # who Asterisk runs as (None: whoever starts it)
    uid: int
    gid: int

    @property
    def chrooted(self) -> bool:
        return self.path is not None

    def command(self, argv: Sequence[str]) -> list[str]:
        """argv run inside the root (chroot execs, so the pid is the program's)."""
        return ["chroot", str(self.path), *argv] if self.path is not None else list(argv)

    def host_path(self, asterisk_path: str | PurePosixPath) -> Path:
        p = PurePosixPath(asterisk_path)
        if not p.is_absolute():
            raise ValueError(f"{asterisk_path}: Asterisk paths are absolute")
        return self.path / p.relative_to("/") if self.path is not None else Path(p)

    def asterisk_path(self, host_path: str | Path) -> PurePosixPath:
        p = Path(host_path).absolute()
        if self.path is None:
            return PurePosixPath(p)
        try:
            return PurePosixPath("/") / p.relative_to(self.path)
        except ValueError:
            raise ValueError(f"{p} is outside the Asterisk root {self.path}") from None

    def instances_base(self) -> PurePosixPath:
        """Asterisk-side directory that holds one subdirectory per instance."""
        if self.path is not None:
            return PurePosixPath("/srv/hotline")
        return PurePosixPath(cache_dir() / "asterisk-instances")

    def version(self) -> str:
        out = subprocess.run(
            self.command(["asterisk", "-V"]), capture_output=True, text=True, timeout=30
        )
        return out.stdout.strip() or out.stderr.strip()

    # --- /proc inside the root, shared by every instance running there -------------

    @contextlib.contextmanager
    def starting(self) -> Iterator[None]:
        """Held while an instance starts: /proc is mounted and nobody unmounts it."""
        if self.path is None:
            yield
            return
        with _locked(self.path.parent / f"{self.path.name}.run.lock"):
            proc = self.path / "proc"
            if not _is_mounted(proc):
                _run(["mount", "-t", "proc", "proc", str(proc)])
            local_names(self.path, socket.gethostname())
            yield

    def release(self) -> None:
        """Unmount /proc when no process runs inside the root any more."""
        if self.path is None:
            return
        with _locked(self.path.parent / f"{self.path.name}.run.lock"):
            proc = self.path / "proc"
            idle = _is_mounted(proc) and not pids_in_root(self.path)
            if idle and subprocess.run(["umount", str(proc)], capture_output=True).returncode:
                subprocess.run(["umount", "-l", str(proc)], capture_output=True)


def local_names(root: Path, hostname: str) -> None:
    """Name lookups inside the root stay on the machine: its /etc/hosts has the host's
    name (a root built elsewhere, or before a rename, would not), and names are looked
    up in files only.

    Asterisk resolves the host's name for every call leg's RTCP when RTP listens on any
    address (res_rtp_asterisk: ast_find_ourip), and A.ROOT-SERVERS.NET when that fails,
    on the PJSIP thread that sets the call up. With the host's resolver that was two DNS
    queries per leg sent off the machine, and once the resolver slowed down, PJSIP tasks
    waited 5-10 s each: the capacity benchmark's Asterisk stalled at 7 calls/s, Hotline
    and the plain dialplan alike, with its CPU idle."""
    hosts = root / "etc" / "hosts"
    wanted = f"127.0.0.1\tlocalhost {hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    _write_if_changed(hosts, wanted)
    nsswitch = root / "etc" / "nsswitch.conf"
    try:
        lines = nsswitch.read_text().splitlines()
    except FileNotFoundError:
        lines = []
    kept = [line for line in lines if line.split(":")[0].strip() != "hosts"]
    _write_if_changed(nsswitch, "\n".join([*kept, "hosts: files"]) + "\n")


def _write_if_changed(path: Path, text: str) -> None:
    try:
        if path.read_text() == text:
            return
    except FileNotFoundError:
        pass
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(text)
    tmp.chmod(0o644)
    tmp.replace(path)


def ensure_root(*, prefer_installed: bool = True, progress: Progress | None = None) -> AsteriskRoot:
    """The Asterisk to run: an installed `asterisk` on PATH, else the cached sid root."""
    if prefer_installed and shutil.which("asterisk"):
        return _host_root()
    return build_root(progress=progress)


def build_root(
    dest: Path | None = None, *, progress: Progress | None = None, force: bool = False
) -> AsteriskRoot:
    dest = dest or cache_dir() / ROOT_NAME
    if not force and _stamp_ok(dest):
        return _chroot_root(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _locked(dest.parent / f"{dest.name}.lock"):
        if not force and _stamp_ok(dest):  # another builder finished while we waited
            return _chroot_root(dest)
        _remove_leftovers(dest)
        if dest.exists() and pids_in_root(dest):
            raise RootError(
                f"{dest} must be rebuilt (its package list changed) but Asterisk is running "
                "in it: stop the sandbox instances first (hotline-dev sandbox stop)"
            )
        _debootstrap(dest, progress or (lambda _msg: None))
    return _chroot_root(dest)


def _debootstrap(dest: Path, progress: Progress) -> None:
    if os.geteuid() != 0:
        raise RootError("building the Asterisk root needs root (debootstrap, chroot, mount)")
    debootstrap = shutil.which("debootstrap") or (
        "/usr/sbin/debootstrap" if Path("/usr/sbin/debootstrap").exists() else None
    )
    if debootstrap is None:
        raise RootError("debootstrap not found: apt-get install debootstrap")
    mirror = os.environ.get("DEBOOTSTRAP_MIRROR", DEFAULT_MIRROR)
    tmp = dest.parent / f"{dest.name}.build-{os.getpid()}"
    log = dest.parent / f"{dest.name}.build.log"
    progress(f"building the Asterisk 22 root (Debian {SUITE}) in {dest}: about a minute, once")
    started = time.monotonic()
    cmd = [debootstrap, "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE]
    try:
        with log.open("w") as out:
            done = subprocess.run(
                [*cmd, str(tmp), mirror], stdout=out, stderr=subprocess.STDOUT, timeout=1800
            )
        if done.returncode != 0:
            raise RootError(f"debootstrap failed (exit {done.returncode}):\n{tail(log, 30)}")
        # The downloaded .deb files are not needed any more (~100 MB).
        subprocess.run(["chroot", str(tmp), "apt-get", "clean"], capture_output=True, timeout=120)
        version = subprocess.run(
            ["chroot", str(tmp), "asterisk", "-V"], capture_output=True, text=True, timeout=60
        ).stdout.strip()
        stamp = _wanted_stamp() | {"asterisk": version, "built_seconds": 0.0}
        stamp["built_seconds"] = round(time.monotonic() - started, 1)
        (tmp / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
        old: Path | None = None
        if dest.exists():
            old = dest.with_name(f"{dest.name}.old-{os.getpid()}")
            dest.rename(old)
        tmp.rename(dest)
    except BaseException:
        _safe_rmtree(tmp)
        raise
    if old is not None:
        _safe_rmtree(old)
    progress(f"built {version} in {time.monotonic() - started:.0f} s")


def _wanted_stamp() -> dict[str, object]:
    return {"format": ROOT_FORMAT, "suite": SUITE, "packages": sorted(PACKAGES)}


def _stamp_ok(dest: Path) -> bool:
    try:
        stamp = json.loads((dest / STAMP).read_text())
    except (OSError, ValueError):
        return False
    wanted = _wanted_stamp()
    return isinstance(stamp, dict) and all(stamp.get(k) == v for k, v in wanted.items())


def root_info(dest: Path | None = None) -> dict[str, object] | None:
    """The stamp of the cached root (package list, Asterisk version, build time), if built."""
    try:
        info = json.loads(((dest or cache_dir() / ROOT_NAME) / STAMP).read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _remove_leftovers(dest: Path) -> None:
    # Called under the build lock: no other builder is running, so these are from crashes.
    for pattern in (f"{dest.name}.build-*", f"{dest.name}.old-*"):
        for leftover in dest.parent.glob(pattern):
            _safe_rmtree(leftover)


def _host_root() -> AsteriskRoot:
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("asterisk")
            return AsteriskRoot(None, "asterisk", pw.pw_uid, pw.pw_gid)
        except KeyError:
            pass
    return AsteriskRoot(None, None, os.getuid(), os.getgid())


def _chroot_root(path: Path) -> AsteriskRoot:
    for line in (path / "etc" / "passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == "asterisk":
            return AsteriskRoot(path, "asterisk", int(fields[2]), int(fields[3]))
    raise RootError(f"{path}: no asterisk user inside the root; delete it to rebuild")


# --- Processes, mounts, locks ----------------------------------------------------------


def pids_in_root(root: Path) -> list[int]:
    """Live processes whose root directory is `root` (Asterisk instances, SIPp runs)."""
    target = str(root.resolve())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "root") == target and not _zombie(int(entry.name)):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X")


def _mount_points() -> list[str]:
    points = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) > 1:
            points.append(fields[1].encode().decode("unicode_escape"))
    return points


def _is_mounted(path: Path) -> bool:
    return str(path.resolve()) in _mount_points()


def _safe_rmtree(path: Path) -> None:
    """Delete a root, after unmounting anything inside it (never follow into /proc)."""
    if not path.exists():
        return
    base = str(path.resolve())
    inside = sorted((m for m in _mount_points() if m == base or m.startswith(base + "/")), key=len)
    for mount in reversed(inside):
        subprocess.run(["umount", "-l", mount], capture_output=True)
    if any(m == base or m.startswith(base + "/") for m in _mount_points()):
        raise RootError(f"{path}: file systems still mounted inside; not deleting it")
    shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RootError(f"{' '.join(argv)} failed: {done.stderr.strip()}")


def tail(path: Path, lines: int = 40) -> str:
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return f"({path}: no log)"
    return "\n".join(text.splitlines()[-lines:])


def sandbox_sounds() -> Path | None:
    """The sounds folder of the cached sandbox root, if built: where the demo and the
    tests render Asterisk's Chinese number words (ivr/prompts.py say_files)."""
    from devtools.services.net import cache_dir

    sounds = cache_dir() / ROOT_NAME / "usr/share/asterisk/sounds"
    return sounds if root_info() is not None and sounds.is_dir() else None
