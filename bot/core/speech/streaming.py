"""Narrating the spoken summary while the model is still writing it.

The summary comes last in the answer, so narrating only after the last token leaves the user waiting for one whole
narration (piper 2–4 s, edge-tts a few round trips). Instead each batch of complete sentences goes to the narrator
as soon as it is written, the batches run concurrently, and their MP3s are joined in order at the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from bot.core.speech.text import MAX_SPOKEN_WORDS, clean_for_speech, sentences, word_count
from bot.core.speech.types import Audio

# Small enough that the first batch starts early, large enough that each request's fixed cost stays small.
BATCH_WORDS = 25


class SpeechStream:
    def __init__(self, narrate: Callable[[str], Coroutine[Any, Any, Audio]], *, max_words: int = MAX_SPOKEN_WORDS,
                 batch_words: int = BATCH_WORDS) -> None:
        self._narrate = narrate
        self._max_words = max_words
        self._batch_words = batch_words
        self._taken = 0  # sentences of the text so far already queued (or dropped past the cap)
        self._pending: list[str] = []
        self._batches: list[str] = []
        self._tasks: list[asyncio.Task[Audio]] = []
        self._words = 0
        self.written_words = 0  # words the model wrote for the summary, cut or not
        self.cut = False

    def update(self, markdown: str, *, final: bool) -> None:
        """The summary so far. Unless ``final``, its last sentence may still grow and waits for the next update."""
        found = sentences(clean_for_speech(markdown))
        complete = found if final else found[:-1]
        self.written_words = sum(word_count(s) for s in found)
        for sentence in complete[self._taken:]:
            words = word_count(sentence)
            if self._words and self._words + words > self._max_words:
                self.cut = True  # cut at a sentence boundary; the rest is never spoken
                break
            self._pending.append(sentence)
            self._words += words
            if word_count(" ".join(self._pending)) >= self._batch_words:
                self._launch()
        self._taken = len(complete)
        if self._pending and (final or self.cut):
            self._launch()

    def _launch(self) -> None:
        text = " ".join(self._pending)
        self._pending = []
        self._batches.append(text)
        self._tasks.append(asyncio.create_task(self._narrate(text)))

    @property
    def text(self) -> str:
        """Exactly what is (or will be) spoken."""
        return " ".join([*self._batches, *self._pending])

    async def finish(self) -> Audio:
        if self._pending:
            self._launch()
        if not self._tasks:
            return await self._narrate(self.text)  # nothing speakable: the narrator explains why
        try:
            pieces = await asyncio.gather(*self._tasks)
        except BaseException:
            self.cancel()
            raise
        if len({(p.engine, p.voice) for p in pieces}) > 1:
            # One batch fell back to the other engine: say it all again in one voice rather than switch mid-summary.
            return await self._narrate(self.text)
        first = pieces[0]
        reason = next((p.fallback_reason for p in pieces if p.fallback_reason), None)
        return Audio(b"".join(p.mp3 for p in pieces), first.engine, first.voice, sum(p.duration_s for p in pieces), reason)

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
