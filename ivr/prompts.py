"""Which sound files the IVR needs, which are missing, and rendering them.

Two kinds of files:

* the configured prompts (config.yaml `ivr.prompts`, zh and en): played by the IVR as
  `${HOTLINE_SOUNDS_DIR}/<language>/<prompt>` (STREAM FILE), kept by Hotline as
  `<ivr.sounds_dir>/<language>/<prompt>.wav`;
* the Chinese words Asterisk's SAY NUMBER / SAY DIGITS / SAY DATE and the money point
  use on a channel whose language is zh (main/say.c ast_say_number_full_zh: digits/0-9,
  digits/10..90, hundred, thousand, wan, yi, minus; ast_get_digit_str: star, pound;
  say_date_en's day-N/mon-N, used for zh too). Asterisk looks for them in
  `<astdatadir>/sounds/zh/` and falls back to English when they are missing, which is
  why a Chinese balance would otherwise be read out in English. Debian ships no Chinese
  sound package, so they are rendered like the prompts.

    needed = prompt_files(settings)                       # [SoundFile]
    missing = [f for f in needed if not f.path.exists()]
    await render_files(missing, TtsTools.find())          # espeak-ng + sox

`hotline prompts list|render` (hotline/commands/prompts.py) is the command around this.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hotline.config.settings import Settings
from ivr.prompt_render import RenderError, TtsTools, render_wav

log = logging.getLogger("hotline.ivr.prompts")
LANGUAGES = ("zh", "en")

_ZH_DIGITS = "零一二三四五六七八九"
_ZH_MONTHS = [f"{n}月" for n in (*_ZH_DIGITS[1:], "十", "十一", "十二")]
# File (relative to the zh sounds folder, no extension) -> what it says.
ZH_SAY_FILES: dict[str, str] = {
    **{f"digits/{n}": _ZH_DIGITS[n] for n in range(10)},
    **{f"digits/{n * 10}": ("" if n == 1 else _ZH_DIGITS[n]) + "十" for n in range(1, 10)},
    "digits/hundred": "百",
    "digits/thousand": "千",
    "digits/wan": "万",
    "digits/yi": "亿",
    "digits/minus": "负",
    "digits/star": "星号",
    "digits/pound": "井号",
    "letters/dot": "点",  # the decimal point of an amount (ivr/agi_channel.py, classic_agi)
    **{f"digits/day-{n}": "星期" + "日一二三四五六"[n] for n in range(7)},
    **{f"digits/mon-{n}": month for n, month in enumerate(_ZH_MONTHS)},
    "digits/year": "年",
    "digits/day": "日",
}


@dataclass(frozen=True)
class SoundFile:
    name: str  # the prompt name, or e.g. "digits/7" for Asterisk's own words
    language: str
    text: str
    path: Path  # the .wav to write

    @property
    def exists(self) -> bool:
        return self.path.exists()


def prompt_path(sounds_dir: str | Path, language: str, prompt: str) -> Path:
    return Path(sounds_dir) / language / f"{prompt}.wav"


def prompt_files(settings: Settings) -> list[SoundFile]:
    """Every configured prompt in every language (zh and en), sorted by language, name."""
    out: list[SoundFile] = []
    for language in LANGUAGES:
        for name, label in sorted(settings.ivr.prompts.items()):
            text = label.zh if language == "zh" else label.en
            path = prompt_path(settings.ivr.sounds_dir, language, name)
            out.append(SoundFile(name, language, text, path))
    return out


def say_files(asterisk_sounds: str | Path) -> list[SoundFile]:
    """Asterisk's zh words (see the module doc) under its sounds folder."""
    base = Path(asterisk_sounds) / "zh"
    return [SoundFile(n, "zh", text, base / f"{n}.wav") for n, text in ZH_SAY_FILES.items()]


def default_asterisk_sounds() -> Path | None:
    """Asterisk's sounds folder as Hotline sees it: the host's Asterisk if installed, else
    the sandbox's Debian sid root (hotline/devservices/asterisk_root.py), if built."""
    host = Path("/usr/share/asterisk/sounds")
    if host.is_dir():
        return host
    from hotline.devservices.asterisk_root import ROOT_NAME, root_info
    from hotline.devservices.net import cache_dir

    sandbox = cache_dir() / ROOT_NAME / "usr/share/asterisk/sounds"
    return sandbox if root_info() is not None and sandbox.is_dir() else None


async def render_files(
    files: Sequence[SoundFile],
    tools: TtsTools,
    *,
    force: bool = False,
    progress: Callable[[SoundFile, str | None], None] | None = None,
) -> list[tuple[SoundFile, str]]:
    """Render the files that do not exist yet (all of them with force); returns the
    failures as (file, reason). Files are world-readable (Asterisk runs as its own user)."""
    failures: list[tuple[SoundFile, str]] = []
    for f in files:
        if f.exists and not force:
            continue
        try:
            await render_wav(tools, f.text, f.language, f.path)
            error = None
        except (OSError, RenderError) as exc:
            error = str(exc)
            failures.append((f, error))
            log.warning("cannot render %s/%s: %s", f.language, f.name, exc)
        if progress is not None:
            progress(f, error)
    return failures
