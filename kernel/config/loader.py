"""Load config.yaml, apply HOTLINE_* environment overrides, validate, explain errors.

Environment overrides use ``__`` between keys: ``HOTLINE_PBX__AMI__PORT=5039`` sets
``pbx.ami.port``. Values are read as YAML scalars/flow collections, so
``HOTLINE_REDIS__URL=redis://127.0.0.1:6379/0`` and ``HOTLINE_CENTER__LANGUAGES=[zh]``
both work. Secrets are accepted only from the environment.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kernel.config.ivr_menu import ivr_node_types
from kernel.config.settings import Settings

ENV_PREFIX = "HOTLINE_"
# Key paths that must never be written in the file (it is committed, shared, backed up).
SECRET_PATHS = (
    ("pbx", "ami", "secret"),
    ("pbx", "webrtc", "password"),
    ("twilio", "auth_token"),
    ("auth", "secret_key"),
)
_SECRET_KEYS = ("secret", "auth_token", "password", "secret_key")
# Environment variables with the prefix that are not config keys.
# HOTLINE_AT_REST_KEY is the key of files sealed at rest (kernel/at_rest.py), read from the
# environment by the code that seals, never a setting.
_NOT_KEYS = {
    "HOTLINE_CONFIG",
    "HOTLINE_CACHE",
    "HOTLINE_TEST_PG",
    "HOTLINE_TEST_REDIS",
    "HOTLINE_AT_REST_KEY",
}


class ConfigError(Exception):
    """The configuration cannot be used; `problems` are 'key.path: what is wrong' lines."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: invalid configuration\n{lines}")


def default_config_path() -> Path:
    return Path(os.environ.get("HOTLINE_CONFIG", "config.yaml"))


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    source = Path(path) if path is not None else default_config_path()
    env = os.environ if env is None else env
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(source), [f"(file): cannot read: {exc.strerror}"]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(str(source), [f"(file): not valid YAML: {exc}"]) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(str(source), ["(file): the top level must be a mapping of keys"])
    problems = [
        f"{'.'.join(p)}: secrets are not accepted in the file; set "
        f"{ENV_PREFIX}{'__'.join(x.upper() for x in p)} in the environment"
        for p in SECRET_PATHS
        if _get(data, p) is not None
    ]
    if problems:
        raise ConfigError(str(source), problems)
    problems = apply_env_overrides(data, env)
    if problems:
        raise ConfigError(str(source), problems)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(source), format_validation_error(exc)) from None


def _secret_env_names(node: Any) -> set[str]:
    """The environment variables the configuration names as holding secrets
    (`secret_env: HOTLINE_SECRET_...`): values to read, not overrides."""
    if isinstance(node, dict):
        found = {str(v) for k, v in node.items() if k == "secret_env" and v}
        for value in node.values():
            found |= _secret_env_names(value)
        return found
    if isinstance(node, list):
        return set().union(*(_secret_env_names(v) for v in node)) if node else set()
    return set()


def apply_env_overrides(data: dict[str, Any], env: Mapping[str, str]) -> list[str]:
    problems: list[str] = []
    # Overrides may add webhooks, so their secret_env names are read after them too.
    secrets = _secret_env_names(data)
    for name in sorted(env):
        if name.startswith(ENV_PREFIX) and name.endswith("__WEBHOOKS"):
            with contextlib.suppress(yaml.YAMLError):
                secrets |= _secret_env_names(yaml.safe_load(env[name]))
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX) or name in _NOT_KEYS or name in secrets:
            continue
        keys = [k.lower() for k in name[len(ENV_PREFIX) :].split("__")]
        if not all(keys):
            problems.append(f"{name}: malformed override (empty key between '__')")
            continue
        try:
            value = yaml.safe_load(env[name]) if env[name] != "" else ""
        except yaml.YAMLError:
            value = env[name]
        if keys[-1] in _SECRET_KEYS:
            value = env[name]  # secrets are strings as given, never parsed
        node: Any = data
        for key in keys[:-1]:
            child = node.get(key) if isinstance(node, dict) else None
            if child is None:
                child = {}
                node[key] = child
            if not isinstance(child, dict):
                problems.append(f"{name}: '{key}' is not a section, cannot set a key inside it")
                break
            node = child
        else:
            node[keys[-1]] = value
    return problems


def format_validation_error(exc: ValidationError) -> list[str]:
    lines: list[str] = []
    for err in exc.errors():
        path = _format_loc(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "required key is missing"
        elif err["type"] == "extra_forbidden":
            msg = "unknown key (typo?)"
        if not path and ("\n" in msg or err["type"] == "value_error"):
            lines.extend(msg.splitlines())  # cross-reference problems carry their own paths
            continue
        got = err.get("input")
        secret = bool(err["loc"]) and err["loc"][-1] in _SECRET_KEYS  # never echo a secret
        if (
            err["type"] not in ("missing", "extra_forbidden")
            and not isinstance(got, dict | list)
            and not secret
        ):
            msg = f"{msg} (got {got!r})"
        lines.append(f"{path or '(top level)'}: {msg}")
    return lines


def _format_loc(loc: tuple[int | str, ...]) -> str:
    parts = list(loc)
    # pydantic puts the node's `type` tag after the node id (ivr.nodes.<id>.<type>.key);
    # the user never wrote that level, so it is dropped from the path.
    if parts[:2] == ["ivr", "nodes"] and len(parts) > 4 and parts[3] in ivr_node_types():
        del parts[3]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data
