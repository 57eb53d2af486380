"""Spoken prompts for the survey calls, rendered once per text with espeak-ng.

A rendered prompt is `<ivr.sounds_dir>/tickets/<language>/<hash>.wav` (8 kHz mono
16-bit, what Asterisk plays without transcoding); Asterisk reads the same directory as
${HOTLINE_SOUNDS_DIR} (deploy/asterisk/extensions.conf [globals]). When espeak-ng or sox
is missing, or rendering fails, render() returns None and the caller falls back to
Asterisk's own sounds (SAY DIGITS, beep).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger(__name__)
VOICES = {"zh": "cmn", "en": "en"}


class PromptRenderer:
    def __init__(
        self,
        sounds_dir: str | Path,
        *,
        espeak: str | None = None,
        sox: str | None = None,
    ) -> None:
        self._dir = Path(sounds_dir)
        self._espeak = espeak or shutil.which("espeak-ng") or shutil.which("espeak")
        self._sox = sox or shutil.which("sox")

    @property
    def available(self) -> bool:
        return bool(self._espeak and self._sox)

    async def render(self, text: str, language: str = "zh") -> str | None:
        """The prompt's name relative to the sounds directory (no extension), or None."""
        if not self.available or not text.strip():
            return None
        key = hashlib.sha1(f"{language}|{text}".encode()).hexdigest()[:20]
        name = f"tickets/{language}/{key}"
        target = self._dir / f"{name}.wav"
        if target.exists():
            return name
        target.parent.mkdir(parents=True, exist_ok=True)
        raw = target.with_suffix(f".{os.getpid()}.raw.wav")
        tmp = target.with_suffix(f".{os.getpid()}.tmp.wav")
        voice = VOICES.get(language, "en")
        try:
            await self._run(self._espeak, "-v", voice, "-s", "165", "-w", str(raw), text)
            await self._run(
                self._sox, "-q", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(tmp)
            )
            tmp.chmod(0o644)
            tmp.replace(target)  # atomic: Asterisk never sees half a file
            return name
        except (OSError, RuntimeError) as exc:
            log.warning("prompt rendering failed (%s): falling back to stock sounds", exc)
            return None
        finally:
            raw.unlink(missing_ok=True)
            tmp.unlink(missing_ok=True)

    @staticmethod
    async def _run(program: str | None, *args: str) -> None:
        assert program is not None
        proc = await asyncio.create_subprocess_exec(
            program,
            *args,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
        if proc.returncode != 0:
            raise RuntimeError(
                f"{Path(program).name} exited {proc.returncode}: {err.decode()[:200]}"
            )
