"""Spoken prompts for the survey calls, rendered once per text with espeak-ng.

A rendered prompt is `<ivr.sounds_dir>/tickets/<language>/<hash>.wav` (8 kHz mono
16-bit, what Asterisk plays without transcoding); Asterisk reads the same directory as
${HOTLINE_SOUNDS_DIR} (deploy/asterisk/extensions.conf [globals]). When espeak-ng or sox
is missing, or rendering fails, render() returns None and the caller falls back to
Asterisk's own sounds (SAY DIGITS, beep).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from ivr.prompt_render import VOICES, RenderError, TtsTools, render_wav

log = logging.getLogger(__name__)
__all__ = ["VOICES", "PromptRenderer"]


class PromptRenderer:
    def __init__(
        self,
        sounds_dir: str | Path,
        *,
        espeak: str | None = None,
        sox: str | None = None,
    ) -> None:
        self._dir = Path(sounds_dir)
        self._tools = TtsTools.find(espeak, sox)

    @property
    def available(self) -> bool:
        return self._tools.available

    async def render(self, text: str, language: str = "zh") -> str | None:
        """The prompt's name relative to the sounds directory (no extension), or None."""
        if not self.available or not text.strip():
            return None
        key = hashlib.sha1(f"{language}|{text}".encode()).hexdigest()[:20]
        name = f"tickets/{language}/{key}"
        target = self._dir / f"{name}.wav"
        if target.exists():
            return name
        try:
            await render_wav(self._tools, text, language, target)
            return name
        except (OSError, RenderError) as exc:
            log.warning("prompt rendering failed (%s): falling back to stock sounds", exc)
            return None
