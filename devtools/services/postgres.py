"""A throw-away PostgreSQL 15 on loopback, for tests, benchmarks and the demo.

The pristine cluster (initdb: UTF8, C.UTF-8, trust auth for the `postgres` superuser)
is built once and cached under cache_dir()/pg. Each server works on its own copy in a
temporary directory, so concurrent test sessions never share a data directory and a
killed run leaves nothing stale behind. Durability is switched off (fsync, full page
writes, synchronous commit): the data is disposable and the tests get faster.

PostgreSQL refuses to run as root, so when we are root the binaries run as the
`postgres` system user (Debian's postgresql-15 package creates it).

    python -m devtools.services.postgres     # start one, print its URL, Ctrl-C stops
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from devtools.services.net import cache_dir, free_port

PG_VERSION = "15"
PG_BIN = Path(os.environ.get("HOTLINE_PG_BIN", f"/usr/lib/postgresql/{PG_VERSION}/bin"))
RUN_AS = "postgres"
_PREFIX = "hotline-pg-run-"
SUPERUSER = "postgres"
_SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "128MB",
    "max_wal_size": "2GB",
    "checkpoint_timeout": "30min",
    "log_min_messages": "warning",
    "timezone": "UTC",
}


class PostgresError(RuntimeError):
    pass


@dataclass(frozen=True)
class _Identity:
    """Popen's user/group/extra_groups: the postgres user when we are root, else us."""

    user: int | None = None
    group: int | None = None
    extra_groups: list[int] | None = None


def _demote() -> _Identity:
    if os.geteuid() != 0:
        return _Identity()
    try:
        pw = pwd.getpwnam(RUN_AS)
    except KeyError as exc:
        raise PostgresError(
            f"running as root but there is no {RUN_AS!r} user: apt-get install postgresql-15"
        ) from exc
    return _Identity(pw.pw_uid, pw.pw_gid, [])


def _give_away(path: Path) -> None:
    if os.geteuid() != 0:
        return
    pw = pwd.getpwnam(RUN_AS)
    for root, dirs, files in os.walk(path):
        os.chown(root, pw.pw_uid, pw.pw_gid)
        for name in dirs + files:
            os.lchown(os.path.join(root, name), pw.pw_uid, pw.pw_gid)


def _binary(name: str) -> str:
    exe = PG_BIN / name
    if not exe.exists():
        raise PostgresError(f"{exe} not found: apt-get install postgresql-{PG_VERSION}")
    return str(exe)


def _workdir(prefix: str) -> Path:
    """A temp dir the postgres user can enter (mkdtemp makes it 0700 for us)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def pristine_cluster() -> Path:
    """The cached initdb output, built once (under a lock: test sessions may race)."""
    root = cache_dir() / "pg"
    root.mkdir(parents=True, exist_ok=True)
    cluster = root / f"cluster-{PG_VERSION}"
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (cluster / "PG_VERSION").exists():
            return cluster
        work = _workdir("hotline-pg-initdb-")
        try:
            data = work / "data"
            data.mkdir(mode=0o700)
            _give_away(work)
            who = _demote()
            result = subprocess.run(
                [
                    _binary("initdb"),
                    "-D",
                    str(data),
                    "--username",
                    SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ],
                capture_output=True,
                text=True,
                check=False,
                user=who.user,
                group=who.group,
                extra_groups=who.extra_groups,
            )
            if result.returncode != 0:
                raise PostgresError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
            partial = root / f".partial-{uuid.uuid4().hex}"
            shutil.copytree(data, partial, symlinks=True)
            partial.rename(cluster)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return cluster


@dataclass
class PostgresServer:
    """One running postmaster on 127.0.0.1:`port` over a private copy of the cluster."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def datadir(self) -> Path:
        return self.workdir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.workdir / "sock"

    @property
    def log_path(self) -> Path:
        return self.workdir / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        """The URL config.yaml would hold (db/ chooses the driver)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 30.0) -> None:
        shutil.copytree(pristine_cluster(), self.datadir, symlinks=True)
        self.datadir.chmod(0o700)
        self.socket_dir.mkdir(exist_ok=True)
        self.log_path.touch()
        _give_away(self.workdir)
        settings = dict(_SERVER_SETTINGS, port=str(self.port))
        settings["unix_socket_directories"] = str(self.socket_dir)
        args = [_binary("postgres"), "-D", str(self.datadir)]
        for key, value in settings.items():
            args += ["-c", f"{key}={value}"]
        who = _demote()
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it open
        try:
            self.process = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C in the terminal is ours to forward
                user=who.user,
                group=who.group,
                extra_groups=who.extra_groups,
            )
        finally:
            log.close()
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise PostgresError(f"postgres exited at start:\n{self.log_tail()}")
            try:
                with psycopg.connect(self.url(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise PostgresError(
                        f"postgres not ready after {timeout:.0f}s:\n{self.log_tail()}"
                    ) from None
                time.sleep(0.05)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def create_database(self, name: str, template: str | None = None) -> str:
        """CREATE DATABASE (optionally as a copy of `template`); returns its URL."""
        import psycopg
        from psycopg import sql

        query = sql.SQL("CREATE DATABASE {} ENCODING 'UTF8'").format(sql.Identifier(name))
        if template is not None:
            query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(query)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def stop(self, timeout: float = 20.0) -> None:
        """Fast shutdown (SIGINT: roll back sessions, exit), then remove the copy."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    """True if `pid` runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def reap_stale_servers() -> list[Path]:
    """Stop servers whose owning process died without stopping them (a killed test
    run), and remove their copies. Only servers started by this module are touched:
    the work dir carries an owner.pid file and the postmaster runs on that data dir."""
    reaped: list[Path] = []
    for workdir in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        try:
            owner = int((workdir / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        if _pid_alive(owner):
            continue
        try:
            postmaster = int((workdir / "data" / "postmaster.pid").read_text().split()[0])
            cmdline = Path(f"/proc/{postmaster}/cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            postmaster, cmdline = 0, b""
        if postmaster and str(workdir / "data").encode() in cmdline:
            os.kill(postmaster, signal.SIGINT)
            deadline = time.monotonic() + 20
            while _pid_alive(postmaster) and time.monotonic() < deadline:
                time.sleep(0.05)
        shutil.rmtree(workdir, ignore_errors=True)
        reaped.append(workdir)
    return reaped


def start_postgres(port: int | None = None, attempts: int = 3) -> PostgresServer:
    """Start a server on a free port (retried: another process may grab the port)."""
    reap_stale_servers()
    last: PostgresError | None = None
    for _ in range(attempts):
        server = PostgresServer(port or free_port(), _workdir(_PREFIX))
        (server.workdir / "owner.pid").write_text(str(os.getpid()))
        try:
            server.start()
            return server
        except PostgresError as exc:
            last = exc
            server.stop()
            if port is not None:
                break
    assert last is not None
    raise last


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


def main() -> int:
    """Run a server until SIGINT or SIGTERM (also when started in the background, where
    SIGINT arrives ignored), then stop it and remove its data."""

    def _stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop)
    with running_postgres() as server:
        print(server.url(), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                signal.pause()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
