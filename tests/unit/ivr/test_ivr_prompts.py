"""IVR sound files: the catalogue of prompts and Asterisk's zh words, real rendering with
espeak-ng + sox (installed by scripts/bootstrap.sh), and `hotline prompts`."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import pytest

from cti.pbx_config import QUEUE_SOUNDS
from hotline.cli import main as hotline
from ivr.prompt_render import TtsTools, render_wav
from ivr.prompts import (
    HOLD_PROMPTS,
    ZH_SAY_FILES,
    prompt_files,
    render_files,
    say_files,
)
from kernel.config import load_settings
from kernel.config.common import Label

ROOT = Path(__file__).resolve().parents[3]


def test_every_configured_prompt_in_both_languages(tmp_path: Path) -> None:
    s = load_settings(ROOT / "config.yaml", env={"HOTLINE_IVR__SOUNDS_DIR": str(tmp_path)})
    files = prompt_files(s)
    assert len(files) == 2 * len(s.ivr.prompts.keys() | HOLD_PROMPTS.keys())
    welcome = {f.language: f for f in files if f.name == "welcome"}
    assert welcome["zh"].path == tmp_path / "zh" / "welcome.wav"
    assert welcome["zh"].text.startswith("您好")
    assert welcome["en"].text.startswith("Welcome")
    assert not any(f.exists for f in files)


def test_holding_queue_prompts_are_rendered_in_both_languages_and_may_be_reworded(
    tmp_path: Path,
) -> None:
    s = load_settings(ROOT / "config.yaml", env={"HOTLINE_IVR__SOUNDS_DIR": str(tmp_path)})
    files = {(f.language, f.name): f for f in prompt_files(s)}
    assert files["zh", "hold_thanks"].text == "感谢您的耐心等候。"
    assert files["en", "hold_thanks"].path == tmp_path / "en" / "hold_thanks.wav"
    # Every queue-* sound queues.conf names is a hold prompt (rendered by the command).
    assert set(QUEUE_SOUNDS.values()) <= HOLD_PROMPTS.keys()
    # A center words them its own way in ivr.prompts, under the same name.
    prompts = {**s.ivr.prompts, "hold_thanks": Label(zh="谢谢您的等待。", en="Thanks!")}
    mine = s.model_copy(update={"ivr": s.ivr.model_copy(update={"prompts": prompts})})
    texts = {(f.language, f.name): f.text for f in prompt_files(mine)}
    assert (texts["zh", "hold_thanks"], texts["en", "hold_thanks"]) == ("谢谢您的等待。", "Thanks!")


def test_zh_words_cover_what_say_number_and_say_digits_play() -> None:
    # main/say.c ast_say_number_full_zh and ast_get_digit_str (Asterisk 22)
    needed = {f"digits/{n}" for n in range(10)} | {f"digits/{n}" for n in range(10, 100, 10)}
    needed |= {"digits/hundred", "digits/thousand", "digits/wan", "digits/yi", "digits/minus"}
    needed |= {"digits/star", "digits/pound", "letters/dot"}
    assert needed <= set(ZH_SAY_FILES)
    assert ZH_SAY_FILES["digits/20"] == "二十"
    assert ZH_SAY_FILES["digits/mon-11"] == "十二月"
    assert say_files("/x")[0].path == Path("/x/zh/digits/0.wav")


def test_a_rendered_prompt_is_8khz_mono_16bit_wav(tmp_path: Path) -> None:
    target = tmp_path / "zh" / "welcome.wav"
    text = "您好，欢迎致电滨江公用事业客户服务热线。"
    asyncio.run(render_wav(TtsTools.find(), text, "zh", target))
    with wave.open(str(target)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert w.getnframes() > 8000  # over a second of speech
    assert target.stat().st_mode & 0o044 == 0o044  # Asterisk (another user) reads it
    assert list(tmp_path.rglob("*.raw.wav")) == []


def test_render_files_skips_existing_and_reports_failures(tmp_path: Path) -> None:
    files = say_files(tmp_path)[:2]
    files[0].path.parent.mkdir(parents=True)
    files[0].path.write_bytes(b"keep")
    assert asyncio.run(render_files(files, TtsTools.find())) == []
    assert files[0].path.read_bytes() == b"keep"
    assert files[1].path.stat().st_size > 1000
    broken = TtsTools(espeak="/bin/false", sox="/bin/false")
    failures = asyncio.run(render_files(files, broken, force=True))
    assert [f.name for f, _ in failures] == ["digits/0", "digits/1"]


def test_hotline_prompts_renders_whats_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOTLINE_IVR__SOUNDS_DIR", str(tmp_path / "sounds"))
    config = str(ROOT / "config.yaml")
    ast = str(tmp_path / "asterisk")
    assert hotline(["--config", config, "prompts", "list", "--asterisk-sounds", ast]) == 0
    assert "MISSING zh welcome" in capsys.readouterr().out
    assert hotline(["--config", config, "prompts", "render", "--asterisk-sounds", ast]) == 0
    out = capsys.readouterr().out
    assert "0 failed" in out
    assert (tmp_path / "sounds" / "en" / "main_menu.wav").exists()
    assert (tmp_path / "asterisk" / "zh" / "digits" / "wan.wav").exists()
    assert hotline(["--config", config, "prompts", "render", "--asterisk-sounds", ast]) == 0
    assert "0 rendered" in capsys.readouterr().out
    assert hotline(["--config", config, "prompts", "list", "--asterisk-sounds", ast]) == 0
    assert ", 0 missing" in capsys.readouterr().out
