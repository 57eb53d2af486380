"""Typed configuration: config.yaml + HOTLINE_* environment overrides."""

from hotline.config.loader import ConfigError, load_settings
from hotline.config.settings import Settings

__all__ = ["ConfigError", "Settings", "load_settings"]
