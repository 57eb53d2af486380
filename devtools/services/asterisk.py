"""The sandbox Asterisk 22 for tests and the demo: render, start, control, stop.

Several instances (a test run, the demo) can share one Asterisk root at the same time:
each gets its own directory tree `<instances base>/<name>/{etc,run,log,spool,lib,
sounds,monitor,agi-bin,sipp}` (inside the chroot: /srv/hotline/<name>), its own ports
and AMI secret, and is started with `asterisk -C <its asterisk.conf>`.

    root = ensure_root()
    with start_instance("demo", settings=s, ami_port=5038, sip_port=5060,
                        fastagi_port=4573, ami_secret="...") as pbx:
        pbx.cli("queue show hold-general")

Asterisk daemonizes itself; an instance is identified by the pid in its state file
(`<instance dir>/instance.json`), so another process (`hotline-dev sandbox stop`) can attach
to it and stop it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType

from cti.ami.client import AmiClient
from cti.pbx_config import (
    Directories,
    params_from_settings,
    render_config,
)
from devtools.services.asterisk_probe import AmiAuthError, fully_booted
from devtools.services.asterisk_root import (
    AsteriskRoot,
    RootError,
    ensure_root,
    pid_alive,
    tail,
)
from devtools.services.net import free_port
from kernel.config import Settings

__all__ = [
    "AsteriskInstance",
    "AsteriskStartError",
    "RootError",
    "attach_instance",
    "ensure_root",
    "free_udp_port",
    "pid_alive",
    "remove_stale_instances",
    "start_instance",
]

STATE_FILE = "instance.json"
# Rebuilt on every start; sounds/, monitor/, agi-bin/ and log/ survive restarts.
_FRESH_DIRS = ("etc", "run", "lib", "spool", "sipp")
_KEPT_DIRS = ("log", "sounds", "monitor", "agi-bin")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
TEST_AGENT_ENDPOINT = "Local/{extension}@hotline-test-agent"


class AsteriskStartError(RuntimeError):
    """Asterisk did not come up; the message carries the tail of its log."""


@dataclass
class AsteriskInstance:
    """A running sandbox Asterisk and how to reach it."""

    name: str
    root: AsteriskRoot
    base: PurePosixPath  # the instance directory as Asterisk sees it
    pid: int
    ami_host: str
    ami_port: int
    ami_username: str
    ami_secret: str = field(repr=False)
    sip_port: int
    sip_password: str = field(repr=False)
    fastagi_host: str
    fastagi_port: int
    agent_endpoint: str
    agent_extensions: tuple[str, ...]
    # extensions_test.conf contexts; callbacks dial Local/<n>@hotline-test-customer.
    test_contexts: bool = True
    started_seconds: float = 0.0
    # RenderParams beyond the instance's own (one node of several: systemname, trunks).
    render: dict[str, object] = field(default_factory=dict)
    # Asterisk's HTTP server (http.conf, loopback): SIP over WebSocket at ws_url, for the
    # desk's browser softphone. 0: an instance started before it had one.
    http_port: int = 0

    # --- paths --------------------------------------------------------------------------

    @property
    def dir(self) -> Path:
        """The instance directory on the host."""
        return self.root.host_path(self.base)

    @property
    def config_path(self) -> PurePosixPath:
        return self.base / "etc" / "asterisk.conf"

    @property
    def etc_dir(self) -> Path:
        return self.dir / "etc"

    @property
    def log_dir(self) -> Path:
        return self.dir / "log"

    @property
    def sounds_dir(self) -> Path:
        """Host directory Asterisk can play from (dialplan global HOTLINE_SOUNDS_DIR)."""
        return self.dir / "sounds"

    @property
    def monitor_dir(self) -> Path:
        """Host directory MixMonitor can write to (dialplan global HOTLINE_MONITOR_DIR)."""
        return self.dir / "monitor"

    @property
    def cel_db(self) -> Path:
        """Host path of the SQLite file cel_sqlite3_custom writes (cel_sqlite3_custom.conf:
        [hotline-cel], a relative name: in astlogdir)."""
        return self.log_dir / "hotline-cel.db"

    @property
    def agi_dir(self) -> Path:
        """Asterisk's astagidir: classic AGI scripts run from here."""
        return self.dir / "agi-bin"

    def host_path(self, asterisk_path: str | PurePosixPath) -> Path:
        return self.root.host_path(asterisk_path)

    def asterisk_path(self, host_path: str | Path) -> PurePosixPath:
        return self.root.asterisk_path(host_path)

    # --- control ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return pid_alive(self.pid)

    def cli(self, command: str, timeout: float = 15.0) -> str:
        """Run an Asterisk CLI command over the instance's control socket."""
        argv = self.root.command(["asterisk", "-C", str(self.config_path), "-rx", command])
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"asterisk -rx {command!r}: {(done.stderr or done.stdout).strip()}")
        return done.stdout

    def reload(self, settings: Settings | None = None) -> None:
        """Re-render the configuration (if settings are given) and reload Asterisk."""
        if settings is not None:
            _write_config(self, settings, self.render)
        self.cli("core reload")

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful `core stop now`, then SIGTERM/SIGKILL. Idempotent."""
        if pid_alive(self.pid):
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.cli("core stop now", timeout=timeout)
            if not _wait_gone(self.pid, timeout):
                for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                    with _ignore_gone():
                        os.kill(self.pid, sig)
                    if _wait_gone(self.pid, wait):
                        break
        self.root.release()

    def __enter__(self) -> AsteriskInstance:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        return tail(self.log_dir / "full.log", lines)

    # --- helpers for tests and the demo -------------------------------------------------

    @property
    def ws_url(self) -> str:
        """SIP over WebSocket (pjsip.conf transport-ws) on the HTTP server."""
        return f"ws://127.0.0.1:{self.http_port}/ws"

    def settings_env(self) -> dict[str, str]:
        """HOTLINE_* overrides that point a backend at this instance."""
        return {
            "HOTLINE_PBX__WEBRTC__WS_URL": self.ws_url,
            "HOTLINE_PBX__WEBRTC__PASSWORD": self.sip_password,
            "HOTLINE_PBX__AMI__HOST": self.ami_host,
            "HOTLINE_PBX__AMI__PORT": str(self.ami_port),
            "HOTLINE_PBX__AMI__USERNAME": self.ami_username,
            "HOTLINE_PBX__AMI__SECRET": self.ami_secret,
            "HOTLINE_PBX__FASTAGI__HOST": self.fastagi_host,
            "HOTLINE_PBX__FASTAGI__PORT": str(self.fastagi_port),
            "HOTLINE_PBX__FASTAGI__ADVERTISED_HOST": self.fastagi_host,
            "HOTLINE_PBX__DIALPLAN__AGENT_ENDPOINT": self.agent_endpoint,
            "HOTLINE_IVR__SOUNDS_DIR": str(self.sounds_dir),
            "HOTLINE_RECORDING__ROOT": str(self.monitor_dir),
            "HOTLINE_RECORDING__ASTERISK_ROOT": str(self.asterisk_path(self.monitor_dir)),
            "HOTLINE_PBX__CEL__URL": f"sqlite:///{self.cel_db}",
        }

    def sipp(
        self,
        *args: str,
        files: Sequence[Path] = (),
        timeout: float = 60.0,
        target: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run SIPp (from the root) against this instance's SIP port.

        `files` (scenarios, CSV injection files) are copied next to it first, so pass
        them by base name in `args` (e.g. "-sf", "uac_auth.xml"). Unless given, SIPp binds
        127.0.0.1 on a free port, and the instance's SIP address is appended as target.
        """
        work = self.dir / "sipp"
        work.mkdir(exist_ok=True)
        for f in files:
            shutil.copy(f, work / Path(f).name)
        argv = list(args)
        if "-i" not in argv:
            argv += ["-i", "127.0.0.1"]
        if "-p" not in argv:
            argv += ["-p", str(free_port())]
        if target:
            argv.append(f"127.0.0.1:{self.sip_port}")
        cwd = str(self.asterisk_path(work))
        cmd = self.root.command(["env", "-C", cwd, "sipp", *argv])
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)

    def state(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("root")
        data["base"] = str(self.base)
        data["root_path"] = str(self.root.path) if self.root.path else None
        return data


def start_instance(
    name: str,
    *,
    settings: Settings,
    ami_port: int,
    sip_port: int,
    fastagi_port: int,
    ami_secret: str,
    fastagi_host: str = "127.0.0.1",
    sip_password: str = "hotline",
    agent_endpoint: str | None = None,
    include_test_contexts: bool = True,
    root: AsteriskRoot | None = None,
    timeout: float = 30.0,
    render: Mapping[str, object] | None = None,
    http_port: int | None = None,
) -> AsteriskInstance:
    """Render the configuration for `name`, start Asterisk, wait until it is fully booted.

    agent_endpoint defaults to config.yaml's pbx.dialplan.agent_endpoint; tests pass
    TEST_AGENT_ENDPOINT so agents are Local channels (extensions_test.conf). `render`:
    more RenderParams (one node of several: cti/pbx_config.py node_overrides).
    `http_port`: Asterisk's HTTP server (the browser softphone's WebSocket); default a
    free loopback port.
    """
    if not _NAME.match(name):
        raise ValueError(f"instance name {name!r}: lowercase letters, digits, '-' and '_'")
    root = root or ensure_root()
    base = root.instances_base() / name
    previous = attach_instance(name, root=root)
    if previous is not None and previous.running:
        raise AsteriskStartError(
            f"sandbox instance {name!r} already runs (pid {previous.pid}, AMI port "
            f"{previous.ami_port}); stop it first"
        )
    instance = AsteriskInstance(
        name=name,
        root=root,
        base=base,
        pid=0,
        ami_host="127.0.0.1",
        ami_port=ami_port,
        ami_username=settings.pbx.ami.username,
        ami_secret=ami_secret,
        sip_port=sip_port,
        sip_password=sip_password,
        fastagi_host=fastagi_host,
        fastagi_port=fastagi_port,
        agent_endpoint=agent_endpoint or settings.pbx.dialplan.agent_endpoint,
        agent_extensions=tuple(str(n) for n in range(1001, 1021)),
        test_contexts=include_test_contexts,
        render=dict(render or {}),
        http_port=http_port or free_port(),
    )
    started = time.monotonic()
    _prepare_dirs(instance)
    _write_config(instance, settings, instance.render)
    _launch(instance, root)
    _wait_ready(instance, timeout)
    instance.started_seconds = round(time.monotonic() - started, 2)
    _save_state(instance)
    return instance


def attach_instance(name: str, *, root: AsteriskRoot | None = None) -> AsteriskInstance | None:
    """The instance `name` as last started (by any process), or None if never started."""
    root = root or ensure_root()
    state_path = root.host_path(root.instances_base() / name / STATE_FILE)
    try:
        data = json.loads(state_path.read_text())
    except (OSError, ValueError):
        return None
    data.pop("root_path", None)
    data["base"] = PurePosixPath(data["base"])
    data["agent_extensions"] = tuple(data["agent_extensions"])
    render = data.get("render") or {}
    if "peers" in render:  # JSON lists back to RenderParams' tuples
        render["peers"] = tuple(tuple(p) for p in render["peers"])
    return AsteriskInstance(root=root, **data)


def remove_stale_instances(
    prefix: str,
    *,
    root: AsteriskRoot | None = None,
    orphaned: Callable[[str], bool] | None = None,
) -> list[str]:
    """Delete the directories of stopped instances whose name starts with `prefix`
    (test runs name theirs test-<pid>; the last ones are kept for post-mortems).

    `orphaned(name)` says whether a still-running instance lost its owner (e.g. a test
    run killed before its teardown); those are stopped first, then deleted too.
    """
    root = root or ensure_root()
    removed: list[str] = []
    base = root.host_path(root.instances_base())
    if not base.is_dir():
        return removed
    for d in sorted(base.iterdir()):
        if not d.name.startswith(prefix):
            continue
        inst = attach_instance(d.name, root=root)
        if inst is not None and inst.running:
            if orphaned is None or not orphaned(d.name):
                continue
            inst.stop()
        shutil.rmtree(d, ignore_errors=True)
        removed.append(d.name)
    return removed


# --- internals ---------------------------------------------------------------------------


def _prepare_dirs(instance: AsteriskInstance) -> None:
    host = instance.dir
    host.mkdir(parents=True, exist_ok=True)
    for sub in _FRESH_DIRS:
        shutil.rmtree(host / sub, ignore_errors=True)
    (host / STATE_FILE).unlink(missing_ok=True)
    full_log = host / "log" / "full.log"
    if full_log.exists():
        full_log.replace(full_log.with_suffix(".log.previous"))
    for sub in (*_FRESH_DIRS, *_KEPT_DIRS):
        (host / sub).mkdir(exist_ok=True)
    uid, gid = instance.root.uid, instance.root.gid
    for path in [host, *host.rglob("*")]:
        os.lchown(path, uid, gid)


def _write_config(
    instance: AsteriskInstance, settings: Settings, render: Mapping[str, object]
) -> None:
    root = instance.root
    test_contexts = instance.test_contexts
    params = params_from_settings(
        settings,
        ami_port=instance.ami_port,
        ami_username=instance.ami_username,
        ami_secret=instance.ami_secret,
        sip_port=instance.sip_port,
        sip_password=instance.sip_password,
        http_port=instance.http_port,
        fastagi_host=instance.fastagi_host,
        fastagi_port=instance.fastagi_port,
        agent_endpoint=instance.agent_endpoint,
        agent_extensions=instance.agent_extensions,
        directories=Directories.under(str(instance.base)),
        run_as=root.user,
        sounds_dir=str(instance.base / "sounds"),
        monitor_dir=str(instance.base / "monitor"),
        outbound_prefix="Local/" if test_contexts else "PJSIP/",
        outbound_suffix="@hotline-test-customer" if test_contexts else "@trunk",
        include_test_contexts=test_contexts,
        **render,
    )
    etc = instance.etc_dir
    for filename, text in render_config(settings, params).items():
        path = etc / filename
        path.write_text(text, encoding="utf-8")
        os.chmod(path, 0o640)  # manager.conf holds the secret
        os.chown(path, root.uid, root.gid)


def _launch(instance: AsteriskInstance, root: AsteriskRoot) -> None:
    """Start Asterisk as a daemon (it forks and writes its pid file)."""
    pid_file = instance.dir / "run" / "asterisk.pid"
    with root.starting():
        done = subprocess.run(
            root.command(["asterisk", "-C", str(instance.config_path)]),
            capture_output=True,
            text=True,
            timeout=30,
        )
        if done.returncode != 0:
            raise AsteriskStartError(
                f"asterisk did not start (exit {done.returncode}): "
                f"{(done.stderr or done.stdout).strip()}\n{instance.log_tail()}"
            )
        deadline = time.monotonic() + 10
        while True:
            try:
                instance.pid = int(pid_file.read_text().strip())
                break
            except (OSError, ValueError):
                if time.monotonic() > deadline:
                    raise AsteriskStartError(
                        f"asterisk wrote no pid file {pid_file}\n{instance.log_tail()}"
                    ) from None
                time.sleep(0.02)


def _wait_ready(instance: AsteriskInstance, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not pid_alive(instance.pid):
            raise AsteriskStartError(
                f"asterisk {instance.name!r} exited during start-up; log tail:\n"
                f"{instance.log_tail()}"
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            instance.stop()
            raise AsteriskStartError(
                f"asterisk {instance.name!r} not fully booted with AMI on port "
                f"{instance.ami_port} after {timeout:.0f}s; log tail:\n{instance.log_tail()}"
            )
        try:
            booted = fully_booted(
                instance.ami_host,
                instance.ami_port,
                instance.ami_username,
                instance.ami_secret,
                timeout=min(2.0, remaining),
            )
        except AmiAuthError as exc:  # e.g. another server owns the AMI port
            instance.stop()
            raise AsteriskStartError(f"{exc} on port {instance.ami_port}") from exc
        if booted:
            return
        time.sleep(0.05)


def _save_state(instance: AsteriskInstance) -> None:
    path = instance.dir / STATE_FILE
    path.write_text(json.dumps(instance.state(), indent=2) + "\n")
    os.chmod(path, 0o600)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class _ignore_gone:
    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> bool:
        return exc_type is not None and issubclass(exc_type, ProcessLookupError)


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port nobody uses right now (SIP listens on UDP)."""
    return free_port(host, udp=True)


@contextlib.asynccontextmanager
async def ami_session(
    instance: AsteriskInstance, timeout: float = 15.0
) -> AsyncIterator[AmiClient]:
    """A short-lived AMI session of its own to `instance`, logged in, asking for no events
    (tests' and the demos' callers, checks beside a bridge's session)."""
    client = AmiClient(
        host=instance.ami_host,
        port=instance.ami_port,
        username=instance.ami_username,
        secret=instance.ami_secret,
        on_event=lambda _frame: None,
        wanted_events=set(),
    )
    client.start()
    try:
        await client.wait_ready(timeout)
        yield client
    finally:
        await client.close()
