"""Engine selection rules that need no engine to run."""

from __future__ import annotations

import pytest

from bot.core.speech.narrator import Narrator
from bot.errors import NarrationError


@pytest.mark.parametrize("text", ["", "   \n\t"])
async def test_empty_text_is_refused(make_settings, text: str) -> None:
    with pytest.raises(NarrationError, match="summary text is empty"):
        await Narrator(make_settings()).narrate(text)


async def test_none_turns_narration_off(make_settings) -> None:
    narrator = Narrator(make_settings(tts_engine="none"))
    assert not narrator.enabled
    assert not any(status.selected for status in narrator.engines())
    with pytest.raises(NarrationError, match=r"narration is off \(TTS_ENGINE=none\)"):
        await narrator.narrate("Hello.")


@pytest.mark.parametrize(("engine", "selected"), [("auto", [True, True]), ("edge", [True, False]),
                                                  ("piper", [False, True])])
def test_engines_marks_what_tts_engine_selects(make_settings, engine: str, selected: list[bool]) -> None:
    narrator = Narrator(make_settings(tts_engine=engine))
    assert narrator.enabled
    assert [status.selected for status in narrator.engines()] == selected
    assert [status.name for status in narrator.engines()] == ["edge-tts", "piper"]
