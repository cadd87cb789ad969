"""The postmortem pipeline: prepare → prompt → analyse (streamed, parsed) → summary → narrate."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from functools import partial

from bot.core.citations import CitationAudit
from bot.core.digest import build_digest
from bot.core.gate import RepeatGuard, evaluate, quality_record
from bot.core.incident import Incident, clean_text, cleaned, render_incident
from bot.core.llm import ContextExceeded, LLMClient, ModelInfo, StreamResult
from bot.core.loading.substance import require_content
from bot.core.narrate import Audio, Narrator
from bot.core.narrate.streaming import SpeechStream
from bot.core.observer import NullObserver, Progress, RunObserver, Stage
from bot.core.parser import StreamingSectionParser
from bot.core.prepare import estimate_tokens, prepare_incident
from bot.core.prepare.redact import redact, redact_text
from bot.core.prompt import PROMPT_VERSION, SYSTEM_PROMPT, build_summary_prompt, build_user_prompt, prompt_overhead_tokens
from bot.core.report import RunInfo, render_report
from bot.core.run import RunState
from bot.core.sections import Section, SectionId
from bot.core.speech import clean_for_speech, deterministic_summary, needs_summary_fallback, word_count
from bot.errors import PostmortemError
from bot.settings import Settings

log = logging.getLogger(__name__)

# Progress callbacks are throttled so a Slack status edit is not made per token.
_TOKEN_PROGRESS_EVERY = 50


@dataclass
class PostmortemResult:
    sections: list[Section]
    report_markdown: str
    audio: Audio | None
    info: RunInfo
    summary: str | None  # the text narrated (kept so a resumed run can narrate it again)


class Pipeline:
    """Runs one incident end to end. Holds the LLM client and narrator so piper's voice loads once per process."""

    def __init__(self, settings: Settings, llm: LLMClient | None = None, narrator: Narrator | None = None) -> None:
        self.settings = settings
        self.llm = llm or LLMClient(settings)
        self.narrator = narrator or Narrator(settings)

    def new_info(self) -> RunInfo:
        return RunInfo(prompt_version=PROMPT_VERSION, model=self.settings.llm_model)

    async def run(self, incident: Incident, observer: RunObserver | None = None, *, narrate: bool = True,
                  info: RunInfo | None = None) -> PostmortemResult:
        """Analyse ``incident``. A caller that passes ``info`` keeps the partial record when this raises."""
        obs = observer or NullObserver()
        narrate = narrate and self.narrator.enabled
        info = info if info is not None else self.new_info()
        incident = cleaned(incident)
        # A thread of emoji and links would still get a confident six-section answer: refuse it before the model.
        require_content(incident, "the incident" if incident.source.startswith("slack") else redact_text(incident.title))
        info.advance(RunState.ANALYSING)
        info.message_count = len(incident.messages)
        info.unread_files = list(incident.unread_files)
        info.input_hash = hashlib.sha256(render_incident(incident).encode()).hexdigest()[:16]
        timer = _Timer(info)
        # What the thread shows, from rules alone: the first reply, before the model is asked anything.
        with timer("digest"):
            digest = await asyncio.to_thread(build_digest, incident)
        digest_markdown = digest.render_markdown()
        citations = CitationAudit(incident, info.citations, digest_markdown)  # evidence ids: checked per section
        await obs.on_digest(digest_markdown)
        context = digest.context_text()

        with timer("preflight"):
            model = await self.llm.preflight()
        info.context_tokens = model.context_tokens
        info.model = model.server_model or info.model
        info.warnings += model.warnings

        await obs.on_stage(Stage.PREPARING, f"{len(incident.messages)} messages")
        budget = self._budget(model)
        with timer("prepare"):
            user_prompt, incident_text = await self._prompt(incident, budget, info, context)
            budget, user_prompt, incident_text = await self._fit_to_tokenizer(incident, model, budget, user_prompt, incident_text, info, context)
        await obs.on_stage(Stage.ANALYSING, f"asking {info.model}")
        narration: asyncio.Task[Audio | None] | None = None
        # The spoken summary is narrated while it streams; only what is left waits for the last token.
        speech = SpeechStream(self.narrator.narrate) if narrate else None
        parser = StreamingSectionParser()
        progress = _Progress(obs, self.settings.status_interval_s)
        emitted: list[Section] = []  # scrubbed, in stream order
        guard = RepeatGuard()  # each section once: a repeated heading ends the answer

        async def emit(sections: list[Section]) -> None:
            nonlocal narration
            for section in map(partial(_scrub, info), sections):
                if not guard.feed(section.id):
                    continue
                section = citations.audit(section, user_prompt)
                emitted.append(section)
                await obs.on_section(section)
                if speech is not None and narration is None and section.id is SectionId.AUDIO_SUMMARY:
                    if needs_summary_fallback(section):
                        speech.cancel()  # too thin to speak: the fallback below writes one
                    else:
                        speech.update(section.body, final=True)
                        narration = asyncio.create_task(self._speak(speech, info))

        async def on_text(delta: str) -> None:
            delta = clean_text(delta)
            await progress.add(delta)
            await emit(parser.feed(delta))
            current, so_far = parser.open_section
            if not guard.opened(current):
                raise _AnswerRepeats  # the model started over: stop reading; what came before stands
            if speech is not None and narration is None and current is SectionId.AUDIO_SUMMARY:
                # Redacted like every section, before a word of it is spoken.
                speech.update(redact_text(so_far), final=False)

        async def ask() -> StreamResult:
            async with progress.ticking():
                try:
                    return await self.llm.stream(SYSTEM_PROMPT, user_prompt, on_text=on_text, context_tokens=model.context_tokens)
                except _AnswerRepeats:
                    return StreamResult("", None, None, None, "repeated")

        try:
            with timer("analyse"):
                try:
                    result = await ask()
                except ContextExceeded as exc:
                    # Refused before any text: shrink the incident to what the server says fits, and ask once more.
                    budget = _shrunk(budget, exc)
                    info.fallbacks.append(f"the server refused the prompt as too long ({exc.message}): "
                                          f"the incident was cut to {budget} tokens and sent again")
                    user_prompt, incident_text = await self._prompt(incident, budget, info, context)
                    result = await ask()
                # After a repeat, the open section is the repeat itself: it is dropped, not closed and posted.
                last = parser.close() if result.finish_reason != "repeated" else []
                if result.finish_reason == "length" and last:
                    # The model ran out of LLM_MAX_TOKENS inside this section: say so where it stops.
                    cut = last[-1]
                    last[-1] = Section(cut.id, cut.title, f"{cut.body}\n\n_(Cut here: the answer reached LLM_MAX_TOKENS.)_")
                await emit(last)
        except BaseException:
            if narration is not None:
                narration.cancel()
            if speech is not None:
                speech.cancel()
            raise
        info.prompt_tokens, info.completion_tokens = result.prompt_tokens, result.completion_tokens
        info.finish_reason, info.template_tokens = result.finish_reason, result.template_tokens
        info.model = result.server_model or info.model
        info.warnings += result.warnings

        sections = emitted
        quality = evaluate(sections, incident_text=incident_text, prompt_text=f"{SYSTEM_PROMPT}\n{user_prompt}", guard=guard)
        info.quality = quality_record(quality)
        if not quality.passed:
            info.warnings.append(quality.closing_line())
        info.sections_found = [s.id.value for s in sections if s.id]
        info.missing_sections = [sid.value for sid in parser.missing()]
        report = render_report(redact_text(incident.title), sections, info, digest_markdown)
        summary: str | None = None
        if narrate:
            summary = await self._summary_text(sections, report, info)
        if narrate and narration is None and summary is not None:
            narration = asyncio.create_task(self.narrate(summary, info))
        info.advance(RunState.POSTING)
        await obs.on_report(report, summary)
        return await self._finish(PostmortemResult(sections, report, None, info, summary), narration, obs, timer)

    async def resume(self, info: RunInfo, sections: list[Section], report: str, summary: str | None,
                     observer: RunObserver | None = None, *, narrate: bool = True) -> PostmortemResult:
        """Finish a run whose report was saved before a restart or failure, without asking the model again.
        The observer sees the sections and report again and skips what it already delivered."""
        obs = observer or NullObserver()
        info.advance(RunState.POSTING)
        for section in sections:
            await obs.on_section(section)
        narration = None
        if narrate and self.narrator.enabled and summary:
            narration = asyncio.create_task(self.narrate(summary, info))
        await obs.on_report(report, summary)
        return await self._finish(PostmortemResult(sections, report, None, info, summary), narration, obs, _Timer(info))

    async def _finish(self, result: PostmortemResult, narration: asyncio.Task[Audio | None] | None,
                      obs: RunObserver, timer: _Timer) -> PostmortemResult:
        if narration is not None:
            await obs.on_stage(Stage.NARRATING, self._tts_label())
            with timer("narrate_wait"):
                result.audio = await narration
        result.info.total_s = round(sum(result.info.timings.values()), 3)
        return result

    async def _fit_to_tokenizer(self, incident: Incident, model: ModelInfo, budget: int, user_prompt: str,
                                incident_text: str, info: RunInfo, context: str) -> tuple[int, str, str]:
        """Our estimate runs 4–15 % low against real tokenizers: where the server can count, trust its count and
        shrink the incident until the prompt fits (a few rounds: folding makes the size not quite proportional)."""
        room = model.context_tokens - self.settings.llm_max_tokens
        for _ in range(3):
            counted = await self.llm.count_tokens(f"{SYSTEM_PROMPT}\n{user_prompt}")
            if counted is None or counted <= room or budget <= 256:
                break
            budget = max(256, int(budget * room / counted * 0.95))
            info.fallbacks.append(f"the server's tokenizer counted {counted} prompt tokens where {room} fit: "
                                  f"the incident was cut to {budget} tokens")
            user_prompt, incident_text = await self._prompt(incident, budget, info, context)
        return budget, user_prompt, incident_text

    async def _prompt(self, incident: Incident, budget: int, info: RunInfo, context: str) -> tuple[str, str]:
        """The user prompt, and the prepared incident text in it (what the quality gate checks facts against)."""
        # The digest's events come out of the same budget; the incident itself always keeps at least 256 tokens.
        incident_budget = max(256, budget - estimate_tokens(context))
        # Off the event loop: a 5 MB log takes ~1 s to fold, and triggers must still be acked meanwhile.
        prepared = await asyncio.to_thread(prepare_incident, incident, incident_budget)
        info.redactions, info.omitted = prepared.redactions, prepared.omitted
        info.token_estimate, info.token_budget = prepared.token_estimate, budget
        return build_user_prompt(prepared.text, title=prepared.title, notes=prepared.omitted or None, context=context), prepared.text

    def _budget(self, model: ModelInfo) -> int:
        overhead = prompt_overhead_tokens(estimate_tokens)
        budget = model.context_tokens - self.settings.llm_max_tokens - overhead
        if budget < 256:
            raise PostmortemError(
                f"the context window ({model.context_tokens} tokens) leaves no room for the incident after "
                f"LLM_MAX_TOKENS={self.settings.llm_max_tokens} and the prompt",
                "lower LLM_MAX_TOKENS, or raise LLM_MAX_CONTEXT_TOKENS (Ollama) or the server's context and LLM_CONTEXT_TOKENS",
            )
        return budget

    async def _summary_text(self, sections: list[Section], report: str, info: RunInfo) -> str:
        """The spoken summary: the model's, else one fallback call at 0.2, else built from the sections."""
        own = next((s for s in sections if s.id is SectionId.AUDIO_SUMMARY), None)
        if own is not None and not needs_summary_fallback(own):
            return own.body
        info.fallbacks.append("audio summary missing or too short: asked the model once more")
        system, user = build_summary_prompt(report)
        try:
            text = clean_for_speech(await self.llm.complete(system, user, temperature=0.2, max_tokens=512))
            if word_count(text) >= 60:
                return text
            info.fallbacks.append("fallback summary too short: built one from the sections")
        except PostmortemError as exc:
            info.fallbacks.append(f"fallback summary call failed ({exc.message}): built one from the sections")
        return deterministic_summary(sections)

    async def narrate(self, summary_markdown: str, info: RunInfo) -> Audio | None:
        """Narrate a whole summary (the fallback summary, a resumed run)."""
        speech = SpeechStream(self.narrator.narrate)
        speech.update(summary_markdown, final=True)
        return await self._speak(speech, info)

    async def _speak(self, speech: SpeechStream, info: RunInfo) -> Audio | None:
        """Finish the narration and record it; a TTS failure is recorded, never fatal, because the written
        report stands on its own."""
        started = time.perf_counter()
        try:
            audio = await speech.finish()
        except PostmortemError as exc:
            info.audio_error = str(exc)
            return None
        finally:
            info.timings["narrate"] = round(time.perf_counter() - started, 3)
            info.narrated_text = speech.text
            if speech.cut:
                info.fallbacks.append(f"spoken summary cut at a sentence boundary to {word_count(speech.text)} words "
                                      f"(the model wrote {speech.written_words})")
        info.tts_engine, info.tts_voice = audio.engine, audio.voice
        if audio.fallback_reason:
            info.fallbacks.append(audio.fallback_reason)
        return audio

    def _tts_label(self) -> str:
        return f"TTS_ENGINE={self.settings.tts_engine}"

    async def aclose(self) -> None:
        await self.llm.aclose()


class _AnswerRepeats(Exception):
    """Raised from the stream callback to stop reading an answer that began repeating its sections."""


def _shrunk(budget: int, exc: ContextExceeded) -> int:
    """The incident budget that fits, from the server's own numbers when it gave them, with a 10 % margin."""
    if exc.prompt_tokens and exc.context_tokens and exc.prompt_tokens > exc.context_tokens:
        return max(256, int(budget * exc.context_tokens / exc.prompt_tokens * 0.9))
    return max(256, int(budget * 0.75))


def _scrub(info: RunInfo, section: Section) -> Section:
    """The model may repeat a secret the redaction missed or invent one: its answer is redacted too before anyone
    sees it (defence in depth); counts go to ``output_redactions``."""
    body, counts = redact(section.body)
    title, title_counts = redact(section.title)
    for kind, n in (counts + title_counts).items():
        info.output_redactions[kind] = info.output_redactions.get(kind, 0) + n
    return section if (body, title) == (section.body, section.title) else Section(section.id, title, body)


class _Timer:
    def __init__(self, info: RunInfo) -> None:
        self.info = info

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.info.timings[stage] = round(time.perf_counter() - started, 3)


class _Progress:
    """Reports streaming progress every _TOKEN_PROGRESS_EVERY tokens, and from a clock every ``interval_s`` while
    the model streams, so a model writing 2 tokens a second (or still loading) shows it is alive."""

    def __init__(self, obs: RunObserver, interval_s: float) -> None:
        self.obs, self.interval_s = obs, interval_s
        self.chars, self.reported = 0, 0
        self.started = self.last = time.monotonic()

    async def add(self, delta: str) -> None:
        self.chars += len(delta)
        if self.chars // 4 - self.reported >= _TOKEN_PROGRESS_EVERY:
            await self._report(tick=False)

    async def _report(self, *, tick: bool) -> None:
        self.reported, self.last = self.chars // 4, time.monotonic()
        await self.obs.on_progress(Progress(self.reported, self.last - self.started, tick=tick))

    @asynccontextmanager
    async def ticking(self) -> AsyncIterator[None]:
        async def tick() -> None:
            while True:
                await asyncio.sleep(max(0.0, self.last + self.interval_s - time.monotonic()))
                if time.monotonic() - self.last >= self.interval_s:
                    await self._report(tick=True)

        task = asyncio.create_task(tick())
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
