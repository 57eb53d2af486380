"""auth.secret_key: only from the environment, and weak values are refused unless in
dev mode; the error names the key and never echoes the secret."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kernel.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[3]
STRONG = "3f9a0c5e8b7d6a1f2e4c9b8a7d6e5f4a"


def test_given_a_strong_secret_in_the_environment_then_accepted() -> None:
    s = load_settings(ROOT / "config.yaml", env={"HOTLINE_AUTH__SECRET_KEY": STRONG})
    assert s.auth.secret_key is not None
    assert s.auth.secret_key.get_secret_value() == STRONG


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("changeme", "well-known default"),
        ("short-but-random-1", "shorter than 32"),
        ("a" * 40, "too few distinct"),
        ("hotline-demo", "well-known default"),
    ],
)
def test_given_a_weak_secret_then_refused_with_the_key_named(value: str, why: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(ROOT / "config.yaml", env={"HOTLINE_AUTH__SECRET_KEY": value})
    text = str(err.value)
    assert "auth.secret_key" in text
    assert why in text
    assert value not in text.split("secret_key:", 1)[1].split("HOTLINE_AUTH__SECRET_KEY")[0]
    assert repr(value) not in text


def test_given_dev_mode_then_a_weak_secret_is_accepted() -> None:
    s = load_settings(
        ROOT / "config.yaml",
        env={"HOTLINE_AUTH__SECRET_KEY": "dev", "HOTLINE_AUTH__DEV_MODE": "true"},
    )
    assert s.auth.dev_mode


def test_given_the_secret_in_the_file_then_refused(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["auth"]["secret_key"] = STRONG
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match="HOTLINE_AUTH__SECRET_KEY in the environment"):
        load_settings(path, env={})
