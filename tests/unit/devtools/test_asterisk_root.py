"""The cached Asterisk root: stamp check, one builder at a time, atomic replacement.

debootstrap itself is replaced by a stub that lays down what a real build leaves behind
(the real one runs in the integration tier, via `hotline-dev sandbox build`).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path, PurePosixPath

import pytest

from devtools.services import asterisk_root
from devtools.services.asterisk_root import STAMP, AsteriskRoot, build_root


def fake_debootstrap(calls: list[Path]) -> object:
    def build(dest: Path, progress: object) -> None:
        calls.append(dest)
        time.sleep(0.2)  # long enough for a second builder to queue on the lock
        tmp = dest.with_name(dest.name + ".build-test")
        (tmp / "etc").mkdir(parents=True)
        (tmp / "etc" / "passwd").write_text(
            "root:x:0:0::/root:/bin/sh\nasterisk:x:101:102::/:/bin/false\n"
        )
        (tmp / STAMP).write_text(json.dumps(asterisk_root._wanted_stamp()))
        if dest.exists():
            dest.rename(dest.with_name(dest.name + ".old-test"))
        tmp.rename(dest)

    return build


def test_cached_root_is_reused_without_building(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    monkeypatch.setattr(asterisk_root, "_debootstrap", fake_debootstrap(calls))
    dest = tmp_path / "asterisk-sid"
    first = build_root(dest)
    second = build_root(dest)
    assert calls == [dest]
    assert first == second == AsteriskRoot(dest, "asterisk", 101, 102)


def test_changed_package_list_rebuilds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    monkeypatch.setattr(asterisk_root, "_debootstrap", fake_debootstrap(calls))
    dest = tmp_path / "asterisk-sid"
    build_root(dest)
    monkeypatch.setattr(asterisk_root, "PACKAGES", (*asterisk_root.PACKAGES, "espeak-ng"))
    build_root(dest)
    assert len(calls) == 2
    assert json.loads((dest / STAMP).read_text())["packages"] == sorted(asterisk_root.PACKAGES)


def test_concurrent_builders_build_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    monkeypatch.setattr(asterisk_root, "_debootstrap", fake_debootstrap(calls))
    dest = tmp_path / "asterisk-sid"
    results: list[AsteriskRoot] = []
    threads = [threading.Thread(target=lambda: results.append(build_root(dest))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(calls) == 1
    assert len(results) == 3
    assert {r.path for r in results} == {dest}


def test_leftovers_of_a_crashed_build_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(asterisk_root, "_debootstrap", fake_debootstrap([]))
    dest = tmp_path / "asterisk-sid"
    crashed = tmp_path / "asterisk-sid.build-12345"
    (crashed / "usr").mkdir(parents=True)
    build_root(dest)
    assert not crashed.exists()


def test_paths_translate_between_host_and_chroot(tmp_path: Path) -> None:
    root = AsteriskRoot(tmp_path, "asterisk", 101, 101)
    host = root.host_path("/srv/hotline/demo/monitor/call.wav")
    assert host == tmp_path / "srv/hotline/demo/monitor/call.wav"
    assert root.asterisk_path(host) == PurePosixPath("/srv/hotline/demo/monitor/call.wav")
    with pytest.raises(ValueError, match="outside the Asterisk root"):
        root.asterisk_path("/etc/passwd")
    with pytest.raises(ValueError, match="absolute"):
        root.host_path("relative/path")
    plain = AsteriskRoot(None, None, 0, 0)
    assert plain.host_path("/var/spool/x") == Path("/var/spool/x")
    assert plain.command(["asterisk", "-V"]) == ["asterisk", "-V"]
    assert root.command(["asterisk", "-V"]) == ["chroot", str(tmp_path), "asterisk", "-V"]


def test_names_inside_the_root_resolve_from_its_files_only(tmp_path: Path) -> None:
    """Asterisk resolves the host's name for every call leg (RTCP): inside the root that
    name is in /etc/hosts, and no lookup goes to a DNS server."""
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "hosts").write_text("127.0.0.1\tlocalhost\n")
    (etc / "nsswitch.conf").write_text(
        "passwd:         files\nhosts:          files dns\nnetworks:       files\n"
    )
    asterisk_root.local_names(tmp_path, "pbx-7")
    assert "127.0.0.1\tlocalhost pbx-7\n" in (etc / "hosts").read_text()
    nsswitch = (etc / "nsswitch.conf").read_text().splitlines()
    assert [line for line in nsswitch if line.startswith("hosts")] == ["hosts: files"]
    assert "passwd:         files" in nsswitch
    assert "networks:       files" in nsswitch
    before = {p.name: p.stat().st_mtime_ns for p in etc.iterdir()}
    time.sleep(0.01)
    asterisk_root.local_names(tmp_path, "pbx-7")  # as every instance start does
    assert {p.name: p.stat().st_mtime_ns for p in etc.iterdir()} == before
    asterisk_root.local_names(tmp_path, "pbx-8")  # the machine was renamed
    assert "localhost pbx-8\n" in (etc / "hosts").read_text()
