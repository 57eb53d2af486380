"""Which sound files the IVR needs, which are missing, and rendering them.

Three kinds of files:

* the configured prompts (config.yaml `ivr.prompts`, zh and en): played by the IVR as
  `${HOTLINE_SOUNDS_DIR}/<language>/<prompt>` (STREAM FILE), kept by Hotline as
  `<ivr.sounds_dir>/<language>/<prompt>.wav`;
* the holding queues' announcements (HOLD_PROMPTS: estimated wait, position, thanks, and
  what [hotline-fallback] says when the wait is over), rendered and kept the same way.
  Asterisk plays them by the language-free name `${HOTLINE_SOUNDS_DIR}/<prompt>`
  (queues.conf `queue-*` sounds, extensions.conf [hotline-queue], [hotline-fallback]);
  for an absolute name Asterisk looks in `<dir>/<channel language>/` first (main/file.c,
  the "old layout"), so the CHANNEL(language) the IVR set picks the file: a Chinese
  caller hears zh/, an English one en/. `ivr.prompts` may override their texts under
  the same names;
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

from ivr.prompt_render import RenderError, TtsTools, render_wav
from kernel.config.common import Label
from kernel.config.settings import Settings

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


# What a caller waiting in a holding queue hears, in both languages (see the module doc).
HOLD_PROMPTS: dict[str, Label] = {
    "hold_estimate": Label(zh="预计等候时间约为", en="The estimated wait is about"),
    "hold_minute": Label(zh="分钟", en="minute"),
    "hold_minutes": Label(zh="分钟", en="minutes"),
    "hold_seconds": Label(zh="秒", en="seconds"),
    "hold_position": Label(zh="您现在排在第", en="You are caller number"),
    "hold_position_end": Label(zh="位。", en="in line."),
    "hold_next": Label(
        zh="您已排在第一位，客服代表将尽快为您服务。",
        en="You are next in line. An agent will be with you shortly.",
    ),
    "hold_thanks": Label(zh="感谢您的耐心等候。", en="Thank you for waiting."),
    # extensions.conf [hotline-fallback] (globals HOTLINE_PROMPT_*): the wait is over.
    "hold_busy": Label(zh="抱歉，客服代表都在忙。", en="Sorry, all our agents are busy."),
    "hold_callback_offer": Label(
        zh="需要回电请按1，继续排队等候请按其他键。",
        en="To be called back, press 1. To keep waiting in line, press any other key.",
    ),
    "hold_enter_number": Label(
        zh="请输入回电号码，以井号键结束。",
        en="Please enter the number to call you back on, then the hash key.",
    ),
    "hold_callback_booked": Label(
        zh="已为您预约回电，您的排队位置将为您保留。",
        en="Your callback is booked and your place in line is kept.",
    ),
    "hold_goodbye": Label(zh="感谢您的来电，再见。", en="Thank you for calling. Goodbye."),
    "hold_voicemail": Label(
        zh="请在提示音后留言，留言完毕请挂机或按井号键。",
        en="Please leave your message after the tone. When you are done, hang up or press "
        "the hash key.",
    ),
}
# Which app_queue sound option plays which hold prompt: cti/pbx_config.py QUEUE_SOUNDS.


def all_prompts(settings: Settings) -> dict[str, Label]:
    """The configured prompts and the hold prompts (configured texts win)."""
    return {**HOLD_PROMPTS, **settings.ivr.prompts}


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
    """Every configured prompt and hold prompt in every language (zh and en), sorted by
    language, name."""
    out: list[SoundFile] = []
    for language in LANGUAGES:
        for name, label in sorted(all_prompts(settings).items()):
            text = label.zh if language == "zh" else label.en
            path = prompt_path(settings.ivr.sounds_dir, language, name)
            out.append(SoundFile(name, language, text, path))
    return out


def say_files(asterisk_sounds: str | Path) -> list[SoundFile]:
    """Asterisk's zh words (see the module doc) under its sounds folder."""
    base = Path(asterisk_sounds) / "zh"
    return [SoundFile(n, "zh", text, base / f"{n}.wav") for n, text in ZH_SAY_FILES.items()]


def default_asterisk_sounds() -> Path | None:
    """Asterisk's sounds folder on this host, if Asterisk is installed here (otherwise
    say where with `--asterisk-sounds`; the demo passes its sandbox root's)."""
    host = Path("/usr/share/asterisk/sounds")
    return host if host.is_dir() else None


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
