"""SpeechStream: sentences are narrated in batches as they are written, joined in order, capped at a sentence."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.speech.streaming import SpeechStream
from bot.core.speech.text import word_count
from bot.core.speech.types import Audio
from bot.errors import NarrationError


class Recorder:
    """A narrator stand-in that says each batch's text as bytes; ``engine_for`` picks the engine per batch."""

    def __init__(self, engine_for=lambda text: "piper") -> None:  # type: ignore[no-untyped-def]
        self.batches: list[str] = []
        self.engine_for = engine_for
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, text: str) -> Audio:
        self.batches.append(text)
        await self.release.wait()
        return Audio(text.encode() + b"|", self.engine_for(text), "voice", float(word_count(text)))


def sentence(i: int, words: int = 10) -> str:
    return "Sentence " + " ".join(["word"] * (words - 2)) + f" {i}."


async def test_complete_sentences_are_narrated_while_the_text_grows_and_the_last_one_waits() -> None:
    narrate = Recorder()
    stream = SpeechStream(narrate, batch_words=20)
    text = ""
    for i in range(1, 5):
        text += sentence(i) + " "
        stream.update(text + "And a sentence still being wri", final=False)
    await asyncio.sleep(0)  # the launched batches take their first step
    assert narrate.batches == [f"{sentence(1)} {sentence(2)}", f"{sentence(3)} {sentence(4)}"]
    stream.update(text + "And a sentence now written.", final=True)
    audio = await stream.finish()
    assert narrate.batches[-1] == "And a sentence now written."
    assert audio.mp3 == b"".join(b.encode() + b"|" for b in narrate.batches)  # joined in order
    assert stream.text == " ".join(narrate.batches) and not stream.cut


async def test_batches_run_concurrently_and_finish_waits_for_all() -> None:
    narrate = Recorder()
    narrate.release.clear()
    stream = SpeechStream(narrate, batch_words=10)
    stream.update(" ".join(sentence(i) for i in range(3)) + " Tail still bei", final=False)
    finishing = asyncio.create_task(stream.finish())
    await asyncio.sleep(0)  # let the batch tasks start
    assert len(narrate.batches) == 3 and not finishing.done()  # all three requests are out at once
    narrate.release.set()
    assert (await finishing).duration_s == 30


async def test_a_long_summary_is_cut_at_a_sentence_boundary() -> None:
    narrate = Recorder()
    stream = SpeechStream(narrate, max_words=45, batch_words=20)
    stream.update(" ".join(sentence(i) for i in range(10)), final=True)
    await stream.finish()
    assert stream.cut and word_count(stream.text) == 40 and stream.text.endswith("3.")
    assert stream.written_words == 100


async def test_batches_spoken_by_different_engines_are_spoken_again_in_one_voice() -> None:
    calls = []

    def engine_for(text: str) -> str:
        calls.append(text)
        return "piper" if len(calls) == 2 else "edge-tts"  # the second batch fell back

    narrate = Recorder(engine_for)
    stream = SpeechStream(narrate, batch_words=10)
    stream.update(" ".join(sentence(i) for i in range(3)), final=True)
    audio = await stream.finish()
    assert narrate.batches[-1] == stream.text  # the whole text once more
    assert audio.mp3 == stream.text.encode() + b"|"


async def test_a_failing_batch_fails_the_narration_and_cancels_the_rest() -> None:
    gate = asyncio.Event()

    async def narrate(text: str) -> Audio:
        if "1." in text:
            raise NarrationError("no narration: edge-tts failed", "fix")
        await gate.wait()  # never released: must be cancelled
        return Audio(b"", "piper", "v", 1.0)

    stream = SpeechStream(narrate, batch_words=10)
    stream.update(" ".join(sentence(i) for i in range(3)), final=True)
    with pytest.raises(NarrationError):
        await stream.finish()
