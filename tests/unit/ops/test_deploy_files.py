"""deploy/systemd/ stays true to the code: every variable of the environment file is a
setting the loader takes, and each unit restarts always, reads that file and the config."""

from __future__ import annotations

import configparser
import secrets
from pathlib import Path

import pytest

from kernel.config.loader import load_settings

ROOT = Path(__file__).resolve().parents[3]
SYSTEMD = ROOT / "deploy" / "systemd"


def test_given_the_environment_file_example_then_every_variable_is_a_setting() -> None:
    lines = (SYSTEMD / "hotline.env.example").read_text().splitlines()
    env = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    env["HOTLINE_AUTH__SECRET_KEY"] = secrets.token_hex(32)  # the example's is a placeholder
    settings = load_settings(ROOT / "config.yaml", env)
    assert settings.ops.port == 9101
    assert settings.http.host == settings.ops.host == "0.0.0.0"


@pytest.mark.parametrize("role", ["api", "pbx"])
def test_given_a_unit_then_it_restarts_always_with_the_config_and_the_secrets(role: str) -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(SYSTEMD / f"hotline-{role}.service")
    service = unit["Service"]
    assert service["Restart"] == "always"
    assert service["EnvironmentFile"] == "/etc/hotline/hotline.env"
    assert service["ExecStart"].endswith(f"--config /etc/hotline/config.yaml serve --role {role}")
