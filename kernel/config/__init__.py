"""Typed configuration: config.yaml + HOTLINE_* environment overrides."""

from kernel.config.loader import ConfigError, load_settings
from kernel.config.settings import Settings

__all__ = ["ConfigError", "Settings", "load_settings"]
