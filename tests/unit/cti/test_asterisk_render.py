"""The Asterisk configuration renderer: deploy/asterisk/ templates + settings -> files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cti.pbx_config import (
    _BLOCKS,
    DEPLOY_DIR,
    TEST_CONTEXTS_FILE,
    Directories,
    RenderError,
    RenderParams,
    load_templates,
    params_from_settings,
    render_config,
)
from kernel.config import Settings, load_settings

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(REPO / "config.yaml", env={})


def contexts(extensions_conf: str) -> set[str]:
    return set(re.findall(r"^\[([\w-]+)\]", extensions_conf, re.MULTILINE))


def test_committed_files_are_the_rendering_of_config_yaml(settings: Settings) -> None:
    # deploy/asterisk/ is what users copy: it must match config.yaml and the renderer.
    rendered = render_config(settings, RenderParams())
    committed = {p.name: p.read_text(encoding="utf-8") for p in DEPLOY_DIR.glob("*.conf")}
    committed.pop(TEST_CONTEXTS_FILE)
    stale = [name for name in committed if rendered.get(name) != committed[name]]
    assert not stale, f"re-render deploy/asterisk (hotline pbx-config --out ...): {stale}"
    assert set(rendered) == set(committed)


def test_instance_parameters_land_in_their_files(settings: Settings) -> None:
    params = params_from_settings(
        settings,
        ami_port=15038,
        ami_secret="s3cr3t",
        sip_port=15060,
        sip_password="pw",
        fastagi_host="10.0.0.7",
        fastagi_port=14573,
        directories=Directories.under("/srv/hotline/demo"),
        run_as=None,
        sounds_dir="/srv/hotline/demo/sounds",
    )
    out = render_config(settings, params)
    assert "port = 15038" in out["manager.conf"]
    assert "[hotline]\nsecret = s3cr3t\n" in out["manager.conf"]
    assert "bind = 127.0.0.1:15060" in out["pjsip.conf"]
    # each agent: a desk phone endpoint and a browser phone endpoint (<ext>-web)
    assert out["pjsip.conf"].count("password = pw\n") == 40
    assert "[1001-web](agent-web-endpoint)" in out["pjsip.conf"]
    assert "HOTLINE_AGI = agi://10.0.0.7:14573" in out["extensions.conf"]
    assert "HOTLINE_SOUNDS_DIR = /srv/hotline/demo/sounds" in out["extensions.conf"]
    # The holding queues announce with Hotline's prompts, by language-free absolute names.
    assert "queue-thankyou = /srv/hotline/demo/sounds/hold_thanks\n" in out["queues.conf"]
    assert "queue-thereare = /srv/hotline/demo/sounds/hold_position\n" in out["queues.conf"]
    assert "astetcdir => /srv/hotline/demo/etc" in out["asterisk.conf"]
    assert "astdbdir => /srv/hotline/demo/lib" in out["asterisk.conf"]
    assert "runuser" not in out["asterisk.conf"]
    assert TEST_CONTEXTS_FILE not in out
    assert "#include" not in out["extensions.conf"]


def test_sandbox_includes_the_test_contexts(settings: Settings) -> None:
    out = render_config(settings, RenderParams(include_test_contexts=True))
    assert '#include "extensions_test.conf"' in out["extensions.conf"]
    assert {"hotline-test-caller", "hotline-test-agent"} <= contexts(out[TEST_CONTEXTS_FILE])


def test_every_queue_gets_a_holding_queue_and_a_max_wait(settings: Settings) -> None:
    out = render_config(settings, RenderParams())
    for queue in settings.queues:
        assert f"[hold-{queue.name}](hold-template)\n" in out["queues.conf"]
        assert (
            f"HOTLINE_MAXWAIT_{queue.name} = {queue.max_wait_seconds}\n" in out["extensions.conf"]
        )
    assert "HOTLINE_MAXWAIT_emergency = 120\n" in out["extensions.conf"]
    # Memberless holding queues keep callers although nobody is logged in.
    template = out["queues.conf"].split("[hold-template](!)", 1)[1].split("\n[", 1)[0]
    assert "joinempty = yes" in template
    assert "leavewhenempty = no" in template
    assert "\nmember" not in out["queues.conf"]


def test_every_hotline_number_enters_the_ivr(settings: Settings) -> None:
    ext = render_config(settings, RenderParams())["extensions.conf"]
    inbound = ext.split("[hotline-inbound]", 1)[1].split("\n[", 1)[0]
    for number in settings.center.hotline_numbers:
        assert f"exten => {number},1,Set(HOTLINE_DIALED=${{EXTEN}})" in inbound
    assert "AGI(${HOTLINE_AGI}/ivr,${HOTLINE_DIALED})" in ext
    assert "Set(AGISIGHUP=no)" in ext


def test_dialplan_names_follow_the_contract_in_config(settings: Settings) -> None:
    renamed = load_settings(
        REPO / "config.yaml",
        env={
            "HOTLINE_PBX__DIALPLAN__INBOUND_CONTEXT": "cc-in",
            "HOTLINE_PBX__DIALPLAN__CONNECT_CONTEXT": "cc-connect",
            "HOTLINE_PBX__DIALPLAN__HOLDING_QUEUE_PREFIX": "wait_",
            "HOTLINE_PBX__DIALPLAN__AGENT_ENDPOINT": "PJSIP/agent{extension}",
        },
    )
    out = render_config(renamed, params_from_settings(renamed))
    ext, queues = out["extensions.conf"], out["queues.conf"]
    assert {"cc-in", "cc-connect", "hotline-spy"} <= contexts(ext)
    assert "hotline-inbound" not in ext
    assert "hotline-connect" not in ext
    assert "include => cc-in" in ext
    assert "[wait_general](wait_template)" in queues
    assert "Queue(wait_${HOTLINE_SKILL}" in ext
    assert "Set(HOTLINE_DIAL=PJSIP/agent${EXTEN})" in ext
    assert "HOTLINE_SPY_TARGET=PJSIP/agent${EXTEN}-" in ext


def test_contract_contexts_exist_and_gotos_resolve(settings: Settings) -> None:
    out = render_config(settings, RenderParams(include_test_contexts=True))
    ext = out["extensions.conf"] + out[TEST_CONTEXTS_FILE]
    known = contexts(ext)
    contract = settings.pbx.dialplan
    for name in (
        contract.inbound_context,
        contract.connect_context,
        contract.callback_context,
        contract.spy_context,
        contract.followup_context,
        "hotline-fallback",
    ):
        assert name in known
    targets = re.findall(r"Goto\(([\w-]+),[^,()]+,[^,()]+\)", ext)
    assert {"hotline-ivr", "hotline-queue", "hotline-fallback"} <= set(targets)
    for target in targets:
        assert target in known, f"Goto to unknown context {target}"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"ami_secret": "a;b"}, "ami_secret"),
        ({"ami_secret": ""}, "ami_secret"),
        ({"sip_password": "x\ny"}, "sip_password"),
        ({"agent_endpoint": "PJSIP/1001"}, "{extension}"),
        ({"agent_extensions": ("10a1",)}, "digits"),
    ],
)
def test_bad_parameters_are_refused(
    settings: Settings, override: dict[str, object], message: str
) -> None:
    with pytest.raises(RenderError, match=re.escape(message)):
        render_config(settings, params_from_settings(settings, **override))


def test_template_markers_are_checked(settings: Settings) -> None:
    with pytest.raises(RenderError, match="unknown generated block 'nope'"):
        render_config(
            settings, RenderParams(), {"x.conf": "; >>> hotline:nope\n; <<< hotline:nope\n"}
        )
    with pytest.raises(RenderError, match="no end line"):
        render_config(settings, RenderParams(), {"x.conf": "; >>> hotline:globals\n"})


def test_every_generator_is_used_by_a_template() -> None:
    text = "\n".join(load_templates().values())
    used = set(re.findall(r"^; >>> hotline:([a-z0-9-]+)$", text, re.MULTILINE))
    assert used == set(_BLOCKS)


def test_rendering_is_repeatable(settings: Settings) -> None:
    once = render_config(settings, RenderParams())
    twice = render_config(settings, RenderParams(), once)
    assert once == twice


def test_pbx_config_command_writes_files_for_your_own_asterisk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline.cli import main

    # What the README says: ports, user and FastAGI address from config.yaml and the
    # HOTLINE_* environment at the time of rendering; binds and directories from options.
    monkeypatch.setenv("HOTLINE_PBX__AMI__SECRET", "from-the-env")
    monkeypatch.setenv("HOTLINE_PBX__AMI__PORT", "5039")
    monkeypatch.setenv("HOTLINE_PBX__AMI__USERNAME", "hl")
    monkeypatch.setenv("HOTLINE_PBX__FASTAGI__HOST", "0.0.0.0")  # Hotline's listen address
    monkeypatch.setenv("HOTLINE_PBX__FASTAGI__ADVERTISED_HOST", "10.0.0.7")
    monkeypatch.setenv("HOTLINE_PBX__FASTAGI__PORT", "4600")
    out = tmp_path / "etc-asterisk"
    code = main(
        [
            *("--config", str(REPO / "config.yaml"), "pbx-config", "--out", str(out)),
            *("--sip-bind", "0.0.0.0", "--sip-password", "agents-pw", "--ami-bind", "10.0.0.2"),
            *("--sounds-dir", "/srv/sounds/hotline", "--monitor-dir", "/srv/monitor"),
        ]
    )
    assert code == 0
    manager = (out / "manager.conf").read_text()
    assert "[hl]\nsecret = from-the-env\n" in manager
    assert "bindaddr = 10.0.0.2\nport = 5039\n" in manager
    extensions = (out / "extensions.conf").read_text()
    assert "HOTLINE_AGI = agi://10.0.0.7:4600\n" in extensions
    assert "HOTLINE_SOUNDS_DIR = /srv/sounds/hotline\n" in extensions
    assert "HOTLINE_MONITOR_DIR = /srv/monitor\n" in extensions
    assert "queue-thankyou = /srv/sounds/hotline/hold_thanks\n" in (out / "queues.conf").read_text()
    assert "bind = 0.0.0.0:5060" in (out / "pjsip.conf").read_text()
    assert "password = agents-pw" in (out / "pjsip.conf").read_text()
    assert not (out / TEST_CONTEXTS_FILE).exists()
    assert (out / "manager.conf").stat().st_mode & 0o777 == 0o640
