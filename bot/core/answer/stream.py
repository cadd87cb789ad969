"""One streamed answer: sections parsed as they complete, scrubbed of secrets, gated, shown when they pass; the
open section previewed while it is typed (bot/core/answer/preview.py); the spoken summary narrated while it streams."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any

from bot.core.answer.model import Answer, key
from bot.core.answer.preview import Previewer, Retract, Verdict
from bot.core.citations import CitationAudit, recorded_sources
from bot.core.events import Emit, PreviewRetracted, SectionDone, SectionPreview
from bot.core.gate import CHECKS, CheckId, RepeatGuard
from bot.core.incident.model import clean_text, visible
from bot.core.redact import redact, redact_text
from bot.core.run import RunFacts
from bot.core.sections import CUT_NOTE, Section, SectionId
from bot.core.sections.parse import StreamingSectionParser
from bot.core.speech.streaming import SpeechStream
from bot.core.speech.text import needs_summary_fallback
from bot.core.speech.types import Audio

# A delta that may finish a sentence the narration could start on.
_SENTENCE_END = re.compile(r"[.!?\n]")


class AnswerRepeats(Exception):
    """Raised from the stream callback to stop reading an answer that began repeating its sections."""


def scrub(info: RunFacts, section: Section) -> Section:
    """The model may repeat a secret the redaction missed or invent one: its answer is redacted too before anyone
    sees it (defence in depth); counts go to ``output_redactions``."""
    body, counts = redact(section.body)
    title, title_counts = redact(section.title)
    for kind, n in (counts + title_counts).items():
        info.output_redactions[kind] = info.output_redactions.get(kind, 0) + n
    return section if (body, title) == (section.body, section.title) else Section(section.id, title, body)


class AnswerStream:
    """Feed it the stream's text with ``on_text``; ``close`` at the end. Sections are emitted in stream order,
    except those the gate holds back."""

    def __init__(self, emit: Emit, info: RunFacts, answer: Answer, speech: SpeechStream | None,
                 speak: Callable[[SpeechStream], Coroutine[Any, Any, Audio | None]], progress: Callable[[str], Awaitable[None]],
                 citations: CitationAudit | None = None) -> None:
        self.emit, self.info, self.answer = emit, info, answer
        self.citations = citations
        self.speech, self._speak, self._progress = speech, speak, progress
        self.parser = StreamingSectionParser()
        self.guard = RepeatGuard()  # each section once: a repeated heading ends the answer
        self.narration: asyncio.Task[Audio | None] | None = None
        self.preview: Previewer | None = None  # of the open section

    async def on_text(self, delta: str) -> None:
        delta = visible(clean_text(delta))
        await self._progress(delta)
        await self._emit(self.parser.feed(delta))
        current, so_far = self.parser.open_section
        if not self.guard.opened(current):
            raise AnswerRepeats  # the model started over: stop reading; what came before stands
        if current is not None:  # every chunk: a sentence in a paragraph ends with a blank, not a line break
            await self._preview(current, so_far)
        if self.speech is not None and self.narration is None and current is SectionId.AUDIO_SUMMARY:
            self._speak_so_far(so_far, delta)

    async def close(self, finish_reason: str | None) -> None:
        # After a repeat, the open section is the repeat itself: it is dropped, not closed and posted.
        last = self.parser.close() if finish_reason != "repeated" else []
        if finish_reason == "length" and last:
            # The model ran out of LLM_MAX_TOKENS inside this section: say so where it stops.
            cut = last[-1]
            last[-1] = Section(cut.id, cut.title, f"{cut.body}{CUT_NOTE}")
        await self._emit(last)
        await self.retract_preview()  # the open section never finished (a repeat ended the answer)

    async def retract_preview(self) -> None:
        """The answer ends with a section still open: what its preview showed is taken back."""
        if self.preview is not None and self.preview.shown and not self.preview.retracted:
            self.preview.retracted = True
            await self.emit(PreviewRetracted(self.preview.id))
        self.preview = None

    def verdict(self, section_id: SectionId, text: str) -> Verdict:
        """The gate's garbage checks on a section's text so far (a preview, the summary being narrated)."""
        failures = [f for f in self.answer.check(Section(section_id, "", text)) if CHECKS[f.check].garbage]
        if any(f.check is not CheckId.SUBSTANCE for f in failures):
            return Verdict.GARBAGE
        return Verdict.STUB if failures else Verdict.CLEAN

    async def _preview(self, current: SectionId, so_far: str) -> None:
        if self.preview is None or self.preview.id is not current:
            await self.retract_preview()  # a section left open without completing (cannot happen in stream order)
            self.preview = Previewer(current, self.verdict, partial(self._cite_line, current))
        step = self.preview.advance(so_far)
        if isinstance(step, Retract):
            await self.emit(PreviewRetracted(current))
        elif step is not None:
            await self.emit(SectionPreview(current, step.body, recorded_sources(self.info.citations)))

    def _cite_line(self, section_id: SectionId, line: str) -> str:
        return self.citations.preview(section_id, line, self.answer.incident_text) if self.citations is not None else line

    def cite(self, section: Section) -> Section:
        """Evidence ids checked against what the model was shown: the dangling ones removed and counted."""
        return self.citations.audit(section, self.answer.incident_text) if self.citations is not None else section

    def cancel(self) -> None:
        """Stop narrating the model's summary (the run failed, or the digest's narration replaces it)."""
        if self.narration is not None:
            self.narration.cancel()
        self._drop_speech()

    async def _emit(self, sections: list[Section]) -> None:
        for section in map(partial(scrub, self.info), sections):
            if not self.guard.feed(section.id):
                continue
            section = self.cite(section)
            failures = self.answer.admit(section)
            held = key(section) in self.answer.held
            if self.preview is not None and self.preview.id is section.id:
                if held:
                    await self.retract_preview()
                self.preview = None
            if not held:
                await self.emit(SectionDone(section, recorded_sources(self.info.citations)))
            if self.speech is None or self.narration is not None or section.id is not SectionId.AUDIO_SUMMARY:
                continue
            if held or failures or needs_summary_fallback(section):
                # Not spoken as written: the repair's text or a fallback summary is narrated after the stream.
                self._drop_speech()
            else:
                self.speech.update(section.body, final=True)
                self.narration = asyncio.create_task(self._speak(self.speech))

    def _speak_so_far(self, so_far: str, delta: str) -> None:
        """Narrate the summary's finished sentences while it streams, but only text the gate would not refuse:
        garbage is caught as it is written (a loop at its third round, an echo at its sentence's end), never
        after a batch of it went to text-to-speech."""
        if not _SENTENCE_END.search(delta):
            return  # nothing new to narrate: the checks run once per sentence, not per token
        text = redact_text(so_far)  # redacted like every section, before a word of it is spoken
        verdict = self.verdict(SectionId.AUDIO_SUMMARY, text)
        if verdict is Verdict.GARBAGE:
            self._drop_speech()  # the repair's text or a fallback summary is narrated after the stream
        elif verdict is Verdict.CLEAN:  # a stub so far is only too short yet
            assert self.speech is not None
            self.speech.update(text, final=False)

    def _drop_speech(self) -> None:
        if self.speech is not None:
            self.speech.cancel()
            self.speech = None
