"""Text -> an Asterisk-playable WAV (8 kHz, mono, 16-bit) with espeak-ng and sox.

The one place Hotline turns text into sound: the IVR's configured prompts (ivr/prompts.py,
`hotline prompts render`), the Chinese number words Asterisk's SAY NUMBER needs, and the
survey prompts of ivr/prompt_cache.py all call `render_wav`.

    tools = TtsTools.find()            # espeak-ng (or espeak) and sox on PATH
    await render_wav(tools, "您好", "zh", Path("var/sounds/zh/welcome.wav"))

The target appears atomically (rename), so Asterisk never plays half a file.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

_RENDERS = itertools.count()
VOICES = {"zh": "cmn", "en": "en"}  # espeak-ng voices: Mandarin, English
SPEED = "165"  # words per minute: a little slower than espeak's default, for the phone


class RenderError(RuntimeError):
    """espeak-ng or sox failed (the message has the tool's stderr)."""


@dataclass(frozen=True)
class TtsTools:
    espeak: str | None
    sox: str | None

    @classmethod
    def find(cls, espeak: str | None = None, sox: str | None = None) -> TtsTools:
        return cls(
            espeak=espeak or shutil.which("espeak-ng") or shutil.which("espeak"),
            sox=sox or shutil.which("sox"),
        )

    @property
    def available(self) -> bool:
        return bool(self.espeak and self.sox)


async def render_wav(tools: TtsTools, text: str, language: str, target: Path) -> None:
    """Speak `text` in `language` into `target` (.wav). Raises RenderError or OSError."""
    if not tools.available:
        raise RenderError("espeak-ng and sox are needed (Debian: apt install espeak-ng sox)")
    espeak, sox = str(tools.espeak), str(tools.sox)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Unique per render, not only per process: two calls of one process may render the
    # same text at once (a campaign's menu prompt), and one must not remove the other's.
    unique = f"{os.getpid()}-{next(_RENDERS)}"
    raw = target.with_suffix(f".{unique}.raw.wav")
    tmp = target.with_suffix(f".{unique}.tmp.wav")
    voice = VOICES.get(language, "en")
    try:
        await _run(espeak, "-v", voice, "-s", SPEED, "-w", str(raw), text)
        await _run(sox, "-q", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(tmp))
        tmp.chmod(0o644)  # Asterisk runs as another user
        tmp.replace(target)
    finally:
        raw.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)


async def _run(program: str, *args: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        program,
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise RenderError(f"{Path(program).name} took over 30 s") from None
    if proc.returncode != 0:
        raise RenderError(f"{Path(program).name} exited {proc.returncode}: {err.decode()[:200]}")
